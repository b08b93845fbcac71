/**
 * Decodes the `CertRequest` form field of certfnsh.asp: a PKCS#10 request as PEM
 * (`-----BEGIN NEW CERTIFICATE REQUEST-----` or `-----BEGIN CERTIFICATE REQUEST-----`) or bare
 * base64 with any line breaks (CryptStringToBinary with CRYPT_STRING_BASE64_ANY).
 *
 * Failures carry the HRESULT ADCS reports with "Error Parsing Request": the ASN.1 decoder's
 * CRYPT_E_ASN1_* codes for broken DER, ERROR_INVALID_DATA when the text is not base64.
 * Not emulated: CMC and PKCS#7-wrapped requests (ADCS accepts them; the emulator answers them
 * with CRYPT_E_ASN1_BADTAG because it only decodes PKCS#10).
 */
import * as asn1js from 'asn1js';
import { x509 } from '../ca/crypto.ts';
import { hresult, type HResult } from '../hresult.ts';

export type DecodedRequest =
  | { ok: true; der: Buffer; csr: x509.Pkcs10CertificateRequest }
  | { ok: false; der: Buffer; error: HResult; info: string };

const PARSE = 'Error Parsing Request';

/** Strips PEM armour and whitespace; `undefined` when what remains is not base64. */
export function requestBytes(text: string): Buffer | undefined {
  const body = text
    .replace(/-----BEGIN [A-Z0-9 ]+-----/g, '')
    .replace(/-----END [A-Z0-9 ]+-----/g, '')
    .replace(/\s+/g, '');
  if (body.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 === 1) return undefined;
  return Buffer.from(body, 'base64');
}

/** Decodes and verifies a PKCS#10 request; never throws. */
export async function decodeCertRequest(text: string): Promise<DecodedRequest> {
  const der = requestBytes(text);
  if (!der) return { ok: false, der: Buffer.alloc(0), error: hresult('ERROR_INVALID_DATA'), info: PARSE };
  // The request must start with a SEQUENCE; Windows' decoder reports any other tag as BADTAG.
  if (der[0] !== 0x30) return { ok: false, der, error: hresult('CRYPT_E_ASN1_BADTAG'), info: PARSE };
  const asn = asn1js.fromBER(new Uint8Array(der));
  if (asn.offset === -1) {
    const truncated = /end of input|too short|length/i.test(asn.result.error);
    return { ok: false, der, error: hresult(truncated ? 'CRYPT_E_ASN1_EOD' : 'CRYPT_E_ASN1_BADTAG'), info: PARSE };
  }
  if (asn.offset !== der.length || !(asn.result instanceof asn1js.Sequence)) {
    return { ok: false, der, error: hresult('CRYPT_E_ASN1_BADTAG'), info: PARSE };
  }
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(der);
  } catch {
    // Well-formed DER that is not a CertificationRequest (e.g. a certificate or CMC).
    return { ok: false, der, error: hresult('CRYPT_E_ASN1_BADTAG'), info: PARSE };
  }
  let valid = false;
  try {
    valid = await csr.verify();
  } catch {
    valid = false;
  }
  if (!valid) {
    return { ok: false, der, error: hresult('NTE_BAD_SIGNATURE'), info: 'Error Verifying Request Signature or Signing Certificate' };
  }
  return { ok: true, der, csr };
}

/** Public key size in bits (RSA modulus, EC curve size), for the template's minimum key size. */
export async function publicKeyBits(csr: x509.Pkcs10CertificateRequest): Promise<number> {
  const alg = csr.publicKey.algorithm as { name: string; modulusLength?: number; namedCurve?: string };
  if (typeof alg.modulusLength === 'number') return alg.modulusLength;
  const curves: Record<string, number> = { 'P-256': 256, 'P-384': 384, 'P-521': 521 };
  if (alg.namedCurve && curves[alg.namedCurve]) return curves[alg.namedCurve];
  return 0;
}
