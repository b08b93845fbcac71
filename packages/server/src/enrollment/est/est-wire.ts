import { randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import { buildCertsOnlyPkcs7 } from '@certbridge/pki';
import { AppError } from '../../errors.ts';

/**
 * RFC 7030 wire formats: bodies are base64 DER ("Content-Transfer-Encoding: base64", section 4),
 * certificates travel as certs-only PKCS#7, server-generated keys as multipart/mixed.
 */

export const PKCS7_CERTS_ONLY = 'application/pkcs7-mime; smime-type=certs-only';

/** The DER inside a base64 request body (line breaks allowed); BAD_REQUEST when it is not base64. */
export function decodeBase64Body(body: unknown): Uint8Array {
  const text = Buffer.isBuffer(body) ? body.toString('latin1') : typeof body === 'string' ? body : '';
  const compact = text.replace(/[\r\n\t ]/g, '');
  if (compact.length === 0) throw new AppError('BAD_REQUEST', 'the request body is empty; RFC 7030 expects a base64 PKCS#10');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 === 1) throw new AppError('BAD_REQUEST', 'the request body is not base64 (RFC 7030 section 4.2.1)');
  return new Uint8Array(Buffer.from(compact, 'base64'));
}

/**
 * The PKCS#10 of an enrollment body: base64 (above) holding exactly one DER SEQUENCE. Bytes after
 * it are refused here, since the CSR parser reads the first element and would ignore them.
 */
export function decodePkcs10Body(body: unknown): Uint8Array {
  const der = decodeBase64Body(body);
  const lengthOctet = der[1] ?? 0;
  const lengthBytes = lengthOctet & 0x80 ? lengthOctet & 0x7f : 0;
  let length = lengthOctet & 0x80 ? 0 : lengthOctet;
  for (let i = 0; i < lengthBytes; i++) length = length * 256 + (der[2 + i] ?? 0);
  const total = 2 + lengthBytes + length;
  if (der[0] !== 0x30 || lengthBytes > 4 || total !== der.length) throw new AppError('MALFORMED_CSR', `the CSR cannot be read: the body holds ${der.length} bytes, not one DER PKCS#10 (${total} bytes)`);
  return der;
}

/** base64 with 64-character lines, as RFC 7030 peers (and openssl) read it. */
export function base64Lines(der: Uint8Array): string {
  return (Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? []).join('\r\n') + '\r\n';
}

export const certsOnlyBody = (certs: Uint8Array[]): string => base64Lines(buildCertsOnlyPkcs7(certs));

/** RFC 7030 section 4.4.2: the private key part (PKCS#8) then the certificate part, base64 each. */
export function serverKeygenBody(pkcs8: Uint8Array, certificateDer: Uint8Array): { contentType: string; body: string } {
  const boundary = `est-${randomBytes(12).toString('hex')}`;
  const body = [
    `--${boundary}`, 'Content-Type: application/pkcs8', 'Content-Transfer-Encoding: base64', '', base64Lines(pkcs8),
    `--${boundary}`, `Content-Type: ${PKCS7_CERTS_ONLY}`, 'Content-Transfer-Encoding: base64', '', base64Lines(buildCertsOnlyPkcs7([certificateDer])),
    `--${boundary}--`, '',
  ].join('\r\n');
  return { contentType: `multipart/mixed; boundary=${boundary}`, body };
}

const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  curves: { 'EC-P256': '1.2.840.10045.3.1.7', 'EC-P384': '1.3.132.0.34', 'EC-P521': '1.3.132.0.35' } as Record<string, string>,
};

/**
 * CsrAttrs (RFC 7030 section 4.5.2, RFC 9908 style): the key the profile wants (ecPublicKey with
 * its curve, or rsaEncryption) and the signature algorithm to use; DER.
 */
export function csrAttrsDer(keyAlgorithm: string): Uint8Array {
  const items: asn1js.AsnType[] = [];
  const curve = OID.curves[keyAlgorithm];
  if (curve) {
    items.push(new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.ecPublicKey }), new asn1js.Set({ value: [new asn1js.ObjectIdentifier({ value: curve })] })] }));
    items.push(new asn1js.ObjectIdentifier({ value: keyAlgorithm === 'EC-P256' ? OID.ecdsaWithSha256 : OID.ecdsaWithSha384 }));
  } else {
    items.push(new asn1js.ObjectIdentifier({ value: OID.rsaEncryption }));
    items.push(new asn1js.ObjectIdentifier({ value: OID.sha256WithRsa }));
  }
  return new Uint8Array(new asn1js.Sequence({ value: items }).toBER(false));
}

