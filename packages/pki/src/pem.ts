import { PkiError } from './errors.ts';

/**
 * PEM armour (RFC 7468). Decoding is lenient in what RFC 7468 section 3 calls "lax" parsing:
 * whitespace and CRLF anywhere inside the base64, explanatory text before the first block.
 */

const BLOCK = /-----BEGIN ([A-Z0-9 #-]+)-----([\s\S]*?)-----END \1-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Encodes `der` as a PEM block with 64-column lines and a trailing newline (RFC 7468 section 2). */
export function pemEncode(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Strict base64 decode: rejects characters outside the alphabet instead of skipping them as Buffer does. */
export function base64Decode(text: string, what: string): Uint8Array {
  const compact = text.replace(/\s+/g, '');
  if (compact.length === 0 || compact.length % 4 === 1 || !BASE64.test(compact)) {
    throw new PkiError('MALFORMED', `${what}: not valid base64`);
  }
  return new Uint8Array(Buffer.from(compact, 'base64'));
}

/** Every PEM block in `text` (only those labelled `label` when given), in order. */
export function pemDecodeAll(text: string, label?: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of text.matchAll(BLOCK)) {
    if (label !== undefined && m[1] !== label) continue;
    const body = m[2] ?? '';
    // RFC 1421 headers (Proc-Type, DEK-Info) mean an encrypted legacy key we cannot read.
    if (/^[\s]*[A-Za-z-]+:/.test(body)) {
      throw new PkiError('UNSUPPORTED', `PEM block "${m[1]}" has RFC 1421 headers (legacy encrypted key)`);
    }
    out.push(base64Decode(body, `PEM block "${m[1]}"`));
  }
  return out;
}

/** The first PEM block (of `label` when given); `PkiError` MALFORMED when there is none. */
export function pemDecode(text: string, label?: string): Uint8Array {
  const first = pemDecodeAll(text, label)[0];
  if (!first) {
    throw new PkiError('MALFORMED', label ? `no PEM block labelled "${label}"` : 'no PEM block found');
  }
  return first;
}

/**
 * Normalises what users paste into DER: PEM text with any of `labels`, bare base64 (no
 * armour, as EST and some UIs send it), or DER bytes. A Uint8Array that is actually PEM
 * text (a file read as bytes) is accepted too.
 */
export function toDer(input: string | Uint8Array, labels: readonly string[], what: string): Uint8Array {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    if (input.length > 0 && input[0] === 0x30) return input;
    text = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
  }
  if (text.includes('-----BEGIN')) {
    for (const m of text.matchAll(BLOCK)) {
      if (labels.includes(m[1] ?? '')) return pemDecode(m[0]);
    }
    throw new PkiError('MALFORMED', `${what}: no PEM block labelled ${labels.map((l) => `"${l}"`).join(' or ')}`);
  }
  if (text.trim().length === 0) throw new PkiError('MALFORMED', `${what}: empty input`);
  return base64Decode(text, what);
}
