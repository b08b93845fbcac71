/**
 * A minimal DER writer for the CMS structures SCEP answers with (X.690 section 10): the
 * server controls every byte it signs, including the sorted SET OF signed attributes.
 */

function lengthBytes(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

export function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(content);
  return new Uint8Array(Buffer.concat([Uint8Array.of(tag), lengthBytes(body.length), body]));
}

export const seq = (...items: Uint8Array[]) => tlv(0x30, ...items);
/** SET OF in DER order: elements sorted by their encodings (X.690 section 11.6). */
export const setOf = (...items: Uint8Array[]) => tlv(0x31, ...[...items].sort((a, b) => Buffer.compare(a, b)));
export const octets = (value: Uint8Array) => tlv(0x04, value);
export const printable = (value: string) => tlv(0x13, new Uint8Array(Buffer.from(value, 'ascii')));
export const nullValue = () => Uint8Array.of(0x05, 0x00);
/** Context-specific constructed tag [n] (EXPLICIT, or IMPLICIT over a constructed type). */
export const context = (n: number, ...content: Uint8Array[]) => tlv(0xa0 | n, ...content);

export function integer(value: number | Uint8Array): Uint8Array {
  if (typeof value !== 'number') return tlv(0x02, value);
  const bytes: number[] = [];
  let n = value;
  do {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  } while (n > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(0x02, Uint8Array.from(bytes));
}

export function oid(dotted: string): Uint8Array {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [40 * parts[0]! + parts[1]!];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [part & 0x7f];
    for (let n = Math.floor(part / 128); n > 0; n = Math.floor(n / 128)) chunk.unshift((n & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Uint8Array.from(out));
}

export const algorithm = (dotted: string, params?: Uint8Array) => seq(oid(dotted), ...(params ? [params] : []));
