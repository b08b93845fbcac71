/**
 * Certificate bodies served by certnew.cer (one X.509 certificate, DER for `Enc=bin`, PEM for
 * `Enc=b64`) and certnew.p7b (a degenerate PKCS#7 SignedData holding the chain, RFC 5652 5.1;
 * certsrv labels its base64 form "-----BEGIN CERTIFICATE-----" even though it is PKCS#7, so the
 * label is ignored and the DER decides).
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
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
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** DER blocks of a PEM text (any label), or the body itself when it is not PEM. */
export function derBlocks(body: Buffer): Buffer[] {
  const text = body.toString('latin1');
  if (!text.includes('-----BEGIN ')) return [body];
  const blocks: Buffer[] = [];
  for (const m of text.matchAll(PEM_BLOCK_RE)) blocks.push(Buffer.from((m[2] ?? '').replace(/\s+/g, ''), 'base64'));
  return blocks;
}

/** Parses one certificate (DER or PEM) and returns it as normalised PEM. */
export function certificatePemFromBody(body: Buffer, what: string): string {
  const [der] = derBlocks(body);
  if (der === undefined || der.length === 0) throw malformed(`${what}: empty certificate body`, body);
  try {
    AsnConvert.parse(der, Certificate);
  } catch (cause) {
    throw malformed(`${what}: body is not an X.509 certificate`, body, cause);
  }
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
