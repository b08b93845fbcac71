/**
 * A minimal DER reader and writer (ITU-T X.690 section 10) for the issuance hot path only:
 * CSR and certificate decoding, TBSCertificate encoding. @peculiar/asn1-schema (over asn1js) costs about
 * 0.5-1.5 ms per CSR or certificate on the CI machine, several times the ECDSA operations
 * themselves, which alone would cap issuance below issue 2's 5,000 certificates/s. Everything
 * else in this package uses the asn1-* structures, and the tests check that this module's
 * output is byte-identical to theirs.
 *
 * The reader is strict DER (definite, minimal lengths; single-octet tags); callers fall back
 * to the asn1-schema path whenever it refuses something, so strictness never rejects input.
 */

export interface Tlv { tag: number; start: number; body: number; end: number }

export class DerError extends Error {}

/** Reads the TLV at `pos`; `limit` bounds it inside its parent. */
export function readTlv(buf: Uint8Array, pos: number, limit: number = buf.length): Tlv {
  if (pos + 2 > limit) throw new DerError('truncated header');
  const tag = buf[pos] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-octet tag');
  let len = buf[pos + 1] as number;
  let body = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || body + n > limit) throw new DerError('bad length');
    if (buf[body] === 0) throw new DerError('non-minimal length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[body + i] as number);
    if (len < 0x80) throw new DerError('non-minimal length');
    body += n;
  }
  const end = body + len;
  if (end > limit) throw new DerError('truncated value');
  return { tag, start: pos, body, end };
}

/** The TLVs making up `parent`'s contents; they must fill it exactly. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let pos = parent.body;
  while (pos < parent.end) {
    const t = readTlv(buf, pos, parent.end);
    out.push(t);
    pos = t.end;
  }
  return out;
}

export function expect(t: Tlv | undefined, tag: number): Tlv {
  if (!t || t.tag !== tag) throw new DerError(`expected tag 0x${tag.toString(16)}`);
  return t;
}

/**
 * A copy of exactly these bytes as an ArrayBuffer, for the asn1-schema classes that take one.
 * `bytes.slice().buffer` is wrong for a Node Buffer: Buffer#slice shares memory, so `.buffer` is
 * the whole 8 KiB pool (or a node-postgres row buffer) and the encoding carries foreign bytes.
 */
export function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  return Uint8Array.prototype.slice.call(bytes).buffer as ArrayBuffer;
}

export function bytes(buf: Uint8Array, t: Tlv): Uint8Array { return buf.subarray(t.body, t.end); }
export function raw(buf: Uint8Array, t: Tlv): Uint8Array { return buf.subarray(t.start, t.end); }

const oidCache = new Map<string, string>();
export function decodeOid(buf: Uint8Array, t: Tlv): string {
  const b = bytes(buf, expect(t, 0x06));
  const key = Buffer.from(b).toString('latin1');
  const hit = oidCache.get(key);
  if (hit) return hit;
  if (b.length === 0 || ((b[b.length - 1] as number) & 0x80) !== 0) throw new DerError('bad OID');
  const arcs: number[] = [];
  let v = 0;
  for (const byte of b) {
    if (v === 0 && byte === 0x80) throw new DerError('non-minimal OID arc');
    v = v * 128 + (byte & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 128) throw new DerError('OID arc too large');
    if ((byte & 0x80) === 0) { arcs.push(v); v = 0; }
  }
  const first = arcs[0] as number;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  const text = [...head, ...arcs.slice(1)].join('.');
  if (oidCache.size < 4096) oidCache.set(key, text);
  return text;
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
/** The DirectoryString/IA5String family as text. */
export function decodeString(buf: Uint8Array, t: Tlv): string {
  const b = bytes(buf, t);
  switch (t.tag) {
    case 0x0c: return utf8Fatal.decode(b);
    case 0x13: case 0x16:
      for (const c of b) if (c > 0x7f) throw new DerError('non-ASCII in ASCII string');
      return Buffer.from(b).toString('latin1');
    case 0x1e: {
      if (b.length % 2) throw new DerError('odd BMPString');
      return Buffer.from(b).swap16().toString('utf16le');
    }
    default: throw new DerError(`string tag 0x${t.tag.toString(16)}`);
  }
}

/** UTCTime (YYMMDDHHMMSSZ, 1950-2049) or GeneralizedTime (YYYYMMDDHHMMSSZ) in the only forms DER allows for certificates. */
export function decodeTime(buf: Uint8Array, t: Tlv | undefined): Date {
  if (!t) throw new DerError('missing time');
  const s = Buffer.from(bytes(buf, t)).toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  if (t.tag === 0x17 && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s))) {
    year = Number(m[1]);
    year += year < 50 ? 2000 : 1900;
  } else if (t.tag === 0x18 && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s))) {
    year = Number(m[1]);
  } else {
    throw new DerError('time form');
  }
  const [mo, d, h, mi, se] = m.slice(2).map(Number) as [number, number, number, number, number];
  const date = new Date(Date.UTC(year, mo - 1, d, h, mi, se));
  // Date.UTC rolls over (month 13, second 61); a real calendar value survives the round trip.
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || date.getUTCHours() !== h || date.getUTCMinutes() !== mi || date.getUTCSeconds() !== se) {
    throw new DerError('time out of range');
  }
  date.setUTCFullYear(year);
  return date;
}

/** AlgorithmIdentifier: OID and at most one parameter element. */
export function algorithmOid(buf: Uint8Array, t: Tlv | undefined): string {
  const [oid, , more] = children(buf, expect(t, 0x30));
  if (more) throw new DerError('extra AlgorithmIdentifier field');
  return decodeOid(buf, oid as Tlv);
}

// ---- writer ----

function lengthOctets(n: number): number[] {
  if (n < 0x80) return [n];
  if (n < 0x100) return [0x81, n];
  if (n < 0x10000) return [0x82, n >> 8, n & 0xff];
  if (n < 0x1000000) return [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return [0x84, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const head = lengthOctets(len);
  const out = new Uint8Array(1 + head.length + len);
  out[0] = tag;
  out.set(head, 1);
  let pos = 1 + head.length;
  for (const p of parts) { out.set(p, pos); pos += p.length; }
  return out;
}

export const seq = (...parts: Uint8Array[]): Uint8Array => tlv(0x30, ...parts);
export const set = (...parts: Uint8Array[]): Uint8Array => tlv(0x31, ...parts);
export const octets = (b: Uint8Array): Uint8Array => tlv(0x04, b);
export const utf8 = (s: string): Uint8Array => tlv(0x0c, Buffer.from(s, 'utf8'));
export const printable = (s: string): Uint8Array => tlv(0x13, Buffer.from(s, 'latin1'));
export const ia5 = (s: string): Uint8Array => tlv(0x16, Buffer.from(s, 'latin1'));
export const TRUE = new Uint8Array([0x01, 0x01, 0xff]);
export const NULL = new Uint8Array([0x05, 0x00]);

/** INTEGER from a non-negative JS number. */
export function smallInt(n: number): Uint8Array {
  const b: number[] = [];
  do { b.unshift(n & 0xff); n = Math.floor(n / 256); } while (n > 0);
  if (((b[0] as number) & 0x80) !== 0) b.unshift(0);
  return tlv(0x02, new Uint8Array(b));
}

const oidBytes = new Map<string, Uint8Array>();
export function oid(dotted: string): Uint8Array {
  const hit = oidBytes.get(dotted);
  if (hit) return hit;
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [];
  const push = (v: number): void => {
    const tmp = [v & 0x7f];
    for (v = Math.floor(v / 128); v > 0; v = Math.floor(v / 128)) tmp.unshift((v & 0x7f) | 0x80);
    out.push(...tmp);
  };
  push((arcs[0] as number) * 40 + (arcs[1] as number));
  for (const a of arcs.slice(2)) push(a);
  const enc = tlv(0x06, new Uint8Array(out));
  if (oidBytes.size < 4096) oidBytes.set(dotted, enc);
  return enc;
}

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 section 4.1.2.5); whole seconds, Z. */
export function time(d: Date): Uint8Array {
  const iso = d.toISOString();
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = d.getUTCFullYear();
  if (year < 1950 || year > 9999) throw new DerError('year out of range');
  return year < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'latin1')) : tlv(0x18, Buffer.from(`${digits}Z`, 'latin1'));
}

/** BIT STRING of whole octets (keys, signatures). */
export function bitString(b: Uint8Array): Uint8Array {
  return tlv(0x03, new Uint8Array([0]), b);
}

/** Named-bit BIT STRING (X.690 section 11.2.2: trailing zero bits removed) from bit numbers. */
export function namedBits(bits: number[]): Uint8Array {
  if (bits.length === 0) return tlv(0x03, new Uint8Array([0]));
  const top = Math.max(...bits);
  const nBytes = (top >> 3) + 1;
  const out = new Uint8Array(nBytes);
  for (const bit of bits) out[bit >> 3] = (out[bit >> 3] as number) | (0x80 >> (bit & 7));
  const unused = 7 - (top & 7);
  return tlv(0x03, new Uint8Array([unused]), out);
}
