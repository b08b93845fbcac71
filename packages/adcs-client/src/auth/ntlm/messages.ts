/**
 * NTLM message encoding ([MS-NLMP] 2.2.1): NEGOTIATE_MESSAGE (type 1), CHALLENGE_MESSAGE
 * (type 2) and AUTHENTICATE_MESSAGE (type 3). Pure byte layout; the NTLMv2 cryptography is in
 * ntlmv2.ts.
 *
 * Layout choices forced by strict servers (gss-ntlmssp, see REAL-PEERS.md): NEGOTIATE always
 * carries the Version field (40 bytes fixed part) and AUTHENTICATE always reserves Version + MIC
 * (88 bytes fixed part) so payload offsets never overlap the MIC.
 */

/** NegotiateFlags ([MS-NLMP] 2.2.2.5). */
export const NTLMSSP = {
  NEGOTIATE_UNICODE: 0x00000001,
  REQUEST_TARGET: 0x00000004,
  NEGOTIATE_NTLM: 0x00000200,
  NEGOTIATE_ALWAYS_SIGN: 0x00008000,
  NEGOTIATE_EXTENDED_SESSIONSECURITY: 0x00080000,
  NEGOTIATE_TARGET_INFO: 0x00800000,
  NEGOTIATE_VERSION: 0x02000000,
  NEGOTIATE_128: 0x20000000,
  NEGOTIATE_KEY_EXCH: 0x40000000,
  NEGOTIATE_56: 0x80000000,
} as const;

const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');
const NEGOTIATE_FIXED = 40;
const AUTHENTICATE_FIXED = 88;
export const MIC_OFFSET = 72;

/**
 * Flags this client asks for. No sign/seal: HTTP authentication only needs the MIC, and without
 * KEY_EXCH the exported session key is the NTLMv2 session base key (no RC4, which OpenSSL 3 also
 * moved to the legacy provider).
 */
export const CLIENT_FLAGS = (NTLMSSP.NEGOTIATE_UNICODE | NTLMSSP.REQUEST_TARGET | NTLMSSP.NEGOTIATE_NTLM
  | NTLMSSP.NEGOTIATE_ALWAYS_SIGN | NTLMSSP.NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLMSSP.NEGOTIATE_TARGET_INFO
  | NTLMSSP.NEGOTIATE_VERSION | NTLMSSP.NEGOTIATE_128 | NTLMSSP.NEGOTIATE_56) >>> 0;

/** VERSION ([MS-NLMP] 2.2.2.10): Windows 10.0 build 19041, NTLMSSP_REVISION_W2K3 (15). */
export const CLIENT_VERSION = Buffer.from([10, 0, 0x61, 0x4a, 0, 0, 0, 0x0f]);

/** Builds the 40-byte NEGOTIATE_MESSAGE (empty domain and workstation, Version present). */
export function encodeNegotiate(flags: number = CLIENT_FLAGS): Buffer {
  const msg = Buffer.alloc(NEGOTIATE_FIXED);
  SIGNATURE.copy(msg, 0);
  msg.writeUInt32LE(1, 8);
  msg.writeUInt32LE(flags >>> 0, 12);
  // DomainNameFields and WorkstationFields: length 0, offset = end of the fixed part.
  msg.writeUInt32LE(NEGOTIATE_FIXED, 20);
  msg.writeUInt32LE(NEGOTIATE_FIXED, 28);
  CLIENT_VERSION.copy(msg, 32);
  return msg;
}

export interface ChallengeMessage {
  flags: number;
  serverChallenge: Buffer;
  targetName: string;
  targetInfo: Buffer;
  raw: Buffer;
}

/** Parses a CHALLENGE_MESSAGE; throws a plain Error describing the defect (callers wrap it). */
export function decodeChallenge(raw: Buffer): ChallengeMessage {
  if (raw.length < 32) throw new Error(`CHALLENGE_MESSAGE too short (${raw.length} bytes)`);
  if (!raw.subarray(0, 8).equals(SIGNATURE)) throw new Error('CHALLENGE_MESSAGE lacks the NTLMSSP signature');
  const type = raw.readUInt32LE(8);
  if (type !== 2) throw new Error(`expected NTLM message type 2, got ${type}`);
  const flags = raw.readUInt32LE(20);
  const targetNameBytes = field(raw, 12, 'TargetName');
  const targetInfo = raw.length >= 48 && (flags & NTLMSSP.NEGOTIATE_TARGET_INFO) !== 0 ? field(raw, 40, 'TargetInfo') : Buffer.alloc(0);
  const unicode = (flags & NTLMSSP.NEGOTIATE_UNICODE) !== 0;
  return {
    flags,
    serverChallenge: Buffer.from(raw.subarray(24, 32)),
    targetName: targetNameBytes.toString(unicode ? 'utf16le' : 'latin1'),
    targetInfo,
    raw: Buffer.from(raw),
  };
}

function field(raw: Buffer, at: number, name: string): Buffer {
  if (at + 8 > raw.length) throw new Error(`${name} field header truncated`);
  const len = raw.readUInt16LE(at);
  const offset = raw.readUInt32LE(at + 4);
  if (len === 0) return Buffer.alloc(0);
  if (offset + len > raw.length) throw new Error(`${name} (offset ${offset}, length ${len}) runs past the message end`);
  return Buffer.from(raw.subarray(offset, offset + len));
}

export interface AuthenticateFields {
  flags: number;
  lmResponse: Buffer;
  ntResponse: Buffer;
  domain: string;
  user: string;
  workstation: string;
  encryptedRandomSessionKey: Buffer;
}

/** Builds an AUTHENTICATE_MESSAGE with a zeroed MIC (the caller computes and patches it). */
export function encodeAuthenticate(f: AuthenticateFields): Buffer {
  const payloads = [
    f.lmResponse,
    f.ntResponse,
    Buffer.from(f.domain, 'utf16le'),
    Buffer.from(f.user, 'utf16le'),
    Buffer.from(f.workstation, 'utf16le'),
    f.encryptedRandomSessionKey,
  ];
  const head = Buffer.alloc(AUTHENTICATE_FIXED);
  SIGNATURE.copy(head, 0);
  head.writeUInt32LE(3, 8);
  let offset = AUTHENTICATE_FIXED;
  payloads.forEach((p, i) => {
    const at = 12 + i * 8;
    head.writeUInt16LE(p.length, at);
    head.writeUInt16LE(p.length, at + 2);
    head.writeUInt32LE(offset, at + 4);
    offset += p.length;
  });
  head.writeUInt32LE(f.flags >>> 0, 60);
  CLIENT_VERSION.copy(head, 64);
  return Buffer.concat([head, ...payloads]);
}
