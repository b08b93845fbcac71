/**
 * SPNEGO tokens (RFC 4178 4.2, [MS-SPNG] 2.2) as far as HTTP Negotiate with NTLM needs them:
 * reading NegTokenInit (with its GSS framing, RFC 2743 3.1) and NegTokenResp, writing
 * NegTokenResp. A small DER walker keeps the exact bytes of mechTypes, which the
 * mechListMIC signs. Readers never throw; malformed input yields `undefined`.
 *
 *   NegTokenInit  ::= SEQUENCE { mechTypes [0] MechTypeList, reqFlags [1] ContextFlags OPTIONAL,
 *                                mechToken [2] OCTET STRING OPTIONAL, mechListMIC [3] OCTET STRING OPTIONAL }
 *   NegTokenResp  ::= SEQUENCE { negState [0] ENUMERATED OPTIONAL, supportedMech [1] MechType OPTIONAL,
 *                                responseToken [2] OCTET STRING OPTIONAL, mechListMIC [3] OCTET STRING OPTIONAL }
 */

/** DER of OBJECT IDENTIFIER 1.3.6.1.4.1.311.2.2.10 (NTLMSSP). */
export const NTLMSSP_OID_DER = Buffer.from('060a2b06010401823702020a', 'hex');
/** DER of OBJECT IDENTIFIER 1.3.6.1.5.5.2 (SPNEGO). */
const SPNEGO_OID_DER = Buffer.from('06062b0601050502', 'hex');

export const NegState = { acceptCompleted: 0, acceptIncomplete: 1, reject: 2 } as const;

interface Tlv {
  tag: number;
  /** Whole element, header included. */
  raw: Buffer;
  value: Buffer;
}

/** Reads one DER element at `off`; undefined when truncated or using indefinite length. */
function readTlv(buf: Buffer, off = 0): Tlv | undefined {
  if (off + 2 > buf.length) return undefined;
  const tag = buf[off];
  let len = buf[off + 1];
  let header = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || off + 2 + n > buf.length) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[off + 2 + i];
    header += n;
  }
  const end = off + header + len;
  if (end > buf.length) return undefined;
  return { tag, raw: buf.subarray(off, end), value: buf.subarray(off + header, end) };
}

/** The elements of a constructed value, in order; undefined when one is malformed. */
function children(value: Buffer): Tlv[] | undefined {
  const out: Tlv[] = [];
  let off = 0;
  while (off < value.length) {
    const t = readTlv(value, off);
    if (!t) return undefined;
    out.push(t);
    off += t.raw.length;
  }
  return out;
}

/** Fields of a NegTokenInit / NegTokenResp SEQUENCE by context tag number. */
function fields(seq: Tlv | undefined): Map<number, Tlv> | undefined {
  if (!seq || seq.tag !== 0x30) return undefined;
  const items = children(seq.value);
  if (!items) return undefined;
  const out = new Map<number, Tlv>();
  for (const it of items) {
    if ((it.tag & 0xe0) !== 0xa0) return undefined;
    const inner = readTlv(it.value);
    if (!inner) return undefined;
    out.set(it.tag & 0x1f, inner);
  }
  return out;
}

export interface NegTokenInit {
  /** Exact DER of the MechTypeList SEQUENCE (signed by mechListMIC). */
  mechTypesDer: Buffer;
  mechTypes: Buffer[];
  mechToken?: Buffer;
}

export function decodeNegTokenInit(token: Buffer): NegTokenInit | undefined {
  const app = readTlv(token);
  if (!app || app.tag !== 0x60 || app.raw.length !== token.length) return undefined;
  const parts = children(app.value);
  if (!parts || parts.length !== 2 || !parts[0].raw.equals(SPNEGO_OID_DER) || parts[1].tag !== 0xa0) return undefined;
  const f = fields(readTlv(parts[1].value));
  const mechTypes = f?.get(0);
  if (!f || !mechTypes || mechTypes.tag !== 0x30) return undefined;
  const list = children(mechTypes.value);
  const mechToken = f.get(2);
  if (!list || (mechToken && mechToken.tag !== 0x04)) return undefined;
  return { mechTypesDer: mechTypes.raw, mechTypes: list.map((m) => m.raw), mechToken: mechToken?.value };
}

export interface NegTokenResp {
  negState?: number;
  responseToken?: Buffer;
  mechListMIC?: Buffer;
}

export function decodeNegTokenResp(token: Buffer): NegTokenResp | undefined {
  const outer = readTlv(token);
  if (!outer || outer.tag !== 0xa1 || outer.raw.length !== token.length) return undefined;
  const f = fields(readTlv(outer.value));
  if (!f) return undefined;
  const state = f.get(0);
  const rt = f.get(2);
  const mic = f.get(3);
  if ((state && (state.tag !== 0x0a || state.value.length !== 1)) || (rt && rt.tag !== 0x04) || (mic && mic.tag !== 0x04)) return undefined;
  return { negState: state?.value[0], responseToken: rt?.value, mechListMIC: mic?.value };
}

function der(tag: number, value: Buffer): Buffer {
  const len = value.length;
  const header =
    len < 0x80 ? Buffer.from([tag, len]) : len < 0x100 ? Buffer.from([tag, 0x81, len]) : Buffer.from([tag, 0x82, len >> 8, len & 0xff]);
  return Buffer.concat([header, value]);
}

/** Builds a NegTokenResp naming NTLMSSP as the selected mechanism when `withMech` is set. */
export function encodeNegTokenResp(r: { negState: number; withMech: boolean; responseToken?: Buffer; mechListMIC?: Buffer }): Buffer {
  const items: Buffer[] = [der(0xa0, der(0x0a, Buffer.from([r.negState])))];
  if (r.withMech) items.push(der(0xa1, NTLMSSP_OID_DER));
  if (r.responseToken) items.push(der(0xa2, der(0x04, r.responseToken)));
  if (r.mechListMIC) items.push(der(0xa3, der(0x04, r.mechListMIC)));
  return der(0xa1, der(0x30, Buffer.concat(items)));
}
