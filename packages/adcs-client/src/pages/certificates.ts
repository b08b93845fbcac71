/**
 * Certificate bodies served by certnew.cer (one X.509 certificate, DER for `Enc=bin`, PEM for
 * `Enc=b64`) and certnew.p7b (a degenerate PKCS#7 SignedData holding the chain, RFC 5652 5.1;
 * certsrv labels its base64 form "-----BEGIN CERTIFICATE-----" even though it is PKCS#7, so the
 * label is ignored and the DER decides).
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { ContentInfo, SignedData, id_signedData } from '@peculiar/asn1-cms';
import { AdcsError } from '../errors.ts';

const PEM_BLOCK_RE = /-----BEGIN ([A-Z0-9 #]+)-----([\s\S]*?)-----END \1-----/g;

/** True when the body looks like an HTML page rather than certificate material. */
export function looksLikeHtml(body: Buffer, contentType: string | undefined): boolean {
  if (contentType !== undefined && /text\/html/i.test(contentType)) return true;
  const head = body.subarray(0, 512).toString('latin1').trimStart().toLowerCase();
  return head.startsWith('<html') || head.startsWith('<!doctype') || head.startsWith('<head');
}

/** DER to PEM with 64-column lines (RFC 7468 2). */
export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** DER blocks of a PEM text (any label), or the body itself when it is not PEM. */
export function derBlocks(body: Buffer): Buffer[] {
  // A DER certificate starts with a SEQUENCE tag; only a text body needs the PEM scan.
  if (body[0] === 0x30) return [body];
  const text = body.toString('latin1');
  if (!text.includes('-----BEGIN ')) return [body];
  const blocks: Buffer[] = [];
  for (const m of text.matchAll(PEM_BLOCK_RE)) blocks.push(Buffer.from((m[2] ?? '').replace(/\s+/g, ''), 'base64'));
  return blocks;
}

/**
 * Reads one DER TLV at `at`: its tag, where its value starts and where it ends; null when the
 * length is not definite or runs past `end` (X.690 8.1.3).
 */
function tlv(der: Uint8Array, at: number, end: number): { tag: number; start: number; end: number } | null {
  if (at + 2 > end) return null;
  const tag = der[at]!;
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const count = len & 0x7f;
    if (count === 0 || count > 4 || start + count > end) return null;
    len = 0;
    for (let i = 0; i < count; i++) len = len * 256 + der[start + i]!;
    start += count;
  }
  return start + len <= end ? { tag, start, end: start + len } : null;
}

/**
 * True when `der` is exactly one Certificate ::= SEQUENCE { tbsCertificate SEQUENCE,
 * signatureAlgorithm SEQUENCE, signatureValue BIT STRING } (RFC 5280 4.1). This tells a
 * certificate from an error page; the caller that keeps the certificate parses it in full.
 */
export function isCertificateDer(der: Uint8Array): boolean {
  const outer = tlv(der, 0, der.length);
  if (!outer || outer.tag !== 0x30 || outer.end !== der.length) return false;
  let at = outer.start;
  for (const tag of [0x30, 0x30, 0x03]) {
    const part = tlv(der, at, outer.end);
    if (!part || part.tag !== tag) return false;
    at = part.end;
  }
  return at === outer.end;
}

/**
 * One certificate (DER or PEM) as normalised PEM. A structural check, not a schema-driven ASN.1
 * parse: that parse cost about 0.6 ms of CPU on every certnew.cer, twice the rest of the client's
 * work per issuance, and the server parses the certificate in full anyway.
 */
export function certificatePemFromBody(body: Buffer, what: string): string {
  const [der] = derBlocks(body);
  if (der === undefined || der.length === 0) throw malformed(`${what}: empty certificate body`, body);
  if (!isCertificateDer(der)) throw malformed(`${what}: body is not an X.509 certificate`, body);
  return derToPem(der);
}

/**
 * Certificates of a PKCS#7 SignedData (DER or base64) in the order the SET OF holds them; that
 * order carries no meaning (RFC 5652 5.1), so callers that need a chain order sort by issuer.
 */
export function certificatesFromPkcs7(body: Buffer, what: string): string[] {
  const [der] = derBlocks(body);
  if (der === undefined || der.length === 0) throw malformed(`${what}: empty PKCS#7 body`, body);
  let signed: SignedData;
  try {
    const info = AsnConvert.parse(der, ContentInfo);
    if (info.contentType !== id_signedData) throw new Error(`content type ${info.contentType} is not signedData`);
    signed = AsnConvert.parse(info.content, SignedData);
  } catch (cause) {
    throw malformed(`${what}: body is not a PKCS#7 SignedData`, body, cause);
  }
  const pems: string[] = [];
  for (const choice of signed.certificates ?? []) {
    if (choice.certificate) pems.push(derToPem(new Uint8Array(AsnConvert.serialize(choice.certificate))));
  }
  if (pems.length === 0) throw malformed(`${what}: PKCS#7 holds no certificate`, body);
  return pems;
}

function malformed(message: string, body: Buffer, cause?: unknown): AdcsError {
  return new AdcsError('ADCS_UNEXPECTED_PAGE', message, {
    excerpt: body.subarray(0, 64).toString('hex'),
    ...(cause === undefined ? {} : { cause }),
  });
}
