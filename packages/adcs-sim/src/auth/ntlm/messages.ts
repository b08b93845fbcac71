/**
 * NTLM message codecs ([MS-NLMP] 2.2.1): NEGOTIATE_MESSAGE (read), CHALLENGE_MESSAGE (write),
 * AUTHENTICATE_MESSAGE (read) and AV_PAIR lists (2.2.2.1). Readers never throw: anything
 * truncated or pointing outside the message yields `undefined`.
 */

export const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');

/** NegotiateFlags bits ([MS-NLMP] 2.2.2.5). */
export const Flags = {
  UNICODE: 0x00000001,
  OEM: 0x00000002,
  REQUEST_TARGET: 0x00000004,
  SIGN: 0x00000010,
  SEAL: 0x00000020,
  NTLM: 0x00000200,
  ALWAYS_SIGN: 0x00008000,
  TARGET_TYPE_DOMAIN: 0x00010000,
  EXTENDED_SESSIONSECURITY: 0x00080000,
  TARGET_INFO: 0x00800000,
  VERSION: 0x02000000,
  N128: 0x20000000,
  KEY_EXCH: 0x40000000,
  N56: 0x80000000,
} as const;

/** AvId values ([MS-NLMP] 2.2.2.1). */
export const AvId = {
  EOL: 0,
  NbComputerName: 1,
  NbDomainName: 2,
  DnsComputerName: 3,
  DnsDomainName: 4,
  DnsTreeName: 5,
  Flags: 6,
  Timestamp: 7,
  SingleHost: 8,
  TargetName: 9,
  ChannelBindings: 10,
} as const;

/** MsvAvFlags bit: the AUTHENTICATE message carries a MIC. */
export const AV_FLAG_MIC = 0x00000002;

export type AvPairs = Map<number, Buffer>;

export function encodeAvPairs(pairs: Array<[number, Buffer]>): Buffer {
  const parts: Buffer[] = [];
  for (const [id, value] of pairs) {
    const h = Buffer.alloc(4);
    h.writeUInt16LE(id, 0);
    h.writeUInt16LE(value.length, 2);
    parts.push(h, value);
  }
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}

/** Parses an AV_PAIR list up to MsvAvEOL; undefined when it runs past the buffer. */
export function decodeAvPairs(buf: Buffer): AvPairs | undefined {
  const out: AvPairs = new Map();
  let off = 0;
  while (off + 4 <= buf.length) {
    const id = buf.readUInt16LE(off);
    const len = buf.readUInt16LE(off + 2);
    if (id === AvId.EOL) return out;
    if (off + 4 + len > buf.length) return undefined;
    out.set(id, buf.subarray(off + 4, off + 4 + len));
    off += 4 + len;
  }
  return undefined;
}

function isMessage(buf: Buffer, type: number, minLength: number): boolean {
  return buf.length >= minLength && buf.subarray(0, 8).equals(SIGNATURE) && buf.readUInt32LE(8) === type;
}

/** Reads a (Len, MaxLen, Offset) field; undefined when it points outside the message. */
function field(buf: Buffer, at: number): { data: Buffer; offset: number } | undefined {
  const len = buf.readUInt16LE(at);
  const offset = buf.readUInt32LE(at + 4);
  if (len === 0) return { data: Buffer.alloc(0), offset };
  if (offset + len > buf.length) return undefined;
  return { data: buf.subarray(offset, offset + len), offset };
}

export interface NegotiateMessage {
  flags: number;
}

export function decodeNegotiate(buf: Buffer): NegotiateMessage | undefined {
  if (!isMessage(buf, 1, 16)) return undefined;
  return { flags: buf.readUInt32LE(12) };
}

export interface ChallengeInput {
  flags: number;
  serverChallenge: Buffer;
  targetName: string;
  targetInfo: Buffer;
}

/** Builds a CHALLENGE_MESSAGE with Version (Windows Server 2019: 10.0 build 17763, NTLM revision 15). */
export function encodeChallenge(c: ChallengeInput): Buffer {
  const header = 56;
  const target = Buffer.from(c.targetName, 'utf16le');
  const msg = Buffer.alloc(header + target.length + c.targetInfo.length);
  SIGNATURE.copy(msg, 0);
  msg.writeUInt32LE(2, 8);
  msg.writeUInt16LE(target.length, 12);
  msg.writeUInt16LE(target.length, 14);
  msg.writeUInt32LE(header, 16);
  msg.writeUInt32LE(c.flags >>> 0, 20);
  c.serverChallenge.copy(msg, 24);
  msg.writeUInt16LE(c.targetInfo.length, 40);
  msg.writeUInt16LE(c.targetInfo.length, 42);
  msg.writeUInt32LE(header + target.length, 44);
  Buffer.from([10, 0, 0x61, 0x45, 0, 0, 0, 15]).copy(msg, 48);
  target.copy(msg, header);
  c.targetInfo.copy(msg, header + target.length);
  return msg;
}

export interface AuthenticateMessage {
  lmResponse: Buffer;
  ntResponse: Buffer;
  domain: string;
  user: string;
  workstation: string;
  encryptedRandomSessionKey: Buffer;
  flags: number;
  /** Offset of the MIC field when the header has room for Version + MIC, else undefined. */
  micOffset?: number;
}

export function decodeAuthenticate(buf: Buffer): AuthenticateMessage | undefined {
  if (!isMessage(buf, 3, 64)) return undefined;
  const fields = [12, 20, 28, 36, 44, 52].map((at) => field(buf, at));
  const [lm, nt, domain, user, ws, key] = fields;
  if (!lm || !nt || !domain || !user || !ws || !key) return undefined;
  const flags = buf.readUInt32LE(60);
  const unicode = (flags & Flags.UNICODE) !== 0;
  const text = (b: Buffer): string => (unicode ? b.toString('utf16le') : b.toString('latin1'));
  const payloadStart = Math.min(...[lm, nt, domain, user, ws, key].filter((f) => f.data.length > 0).map((f) => f.offset), buf.length);
  return {
    lmResponse: lm.data,
    ntResponse: nt.data,
    domain: text(domain.data),
    user: text(user.data),
    workstation: text(ws.data),
    encryptedRandomSessionKey: key.data,
    flags,
    micOffset: payloadStart >= 88 ? 72 : undefined,
  };
}
