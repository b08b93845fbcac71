/**
 * Binary answers of the certsrv virtual directory: certnew.cer (one certificate),
 * certnew.p7b (PKCS#7 certs-only chain) and certcrl.crl. `Enc=bin` is DER; `Enc=b64` is base64
 * with a header (CR_OUT_BASE64HEADER). Windows writes the `-----BEGIN CERTIFICATE-----` label
 * for the PKCS#7 chain as well (CryptBinaryToString CRYPT_STRING_BASE64HEADER), which the
 * emulator repeats; CRLs use `-----BEGIN X509 CRL-----` (CRYPT_STRING_BASE64X509CRLHEADER).
 */
import { x509, pem } from '../ca/crypto.ts';
import type { IisResponse } from './iis.ts';

export type Encoding = 'bin' | 'b64';

/** `Enc` query value; absent or unknown values are treated as bin (not verified against IIS). */
export function encodingOf(q: URLSearchParams): Encoding {
  return q.get('Enc')?.toLowerCase() === 'b64' ? 'b64' : 'bin';
}

export function certificateResponse(der: ArrayBuffer | Uint8Array, enc: Encoding): IisResponse {
  const bytes = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der));
  return { status: 200, contentType: 'application/pkix-cert', body: enc === 'bin' ? bytes : pem(bytes) };
}

export function chainResponse(certs: x509.X509Certificate[], enc: Encoding): IisResponse {
  const der = new x509.X509Certificates(certs).export('raw');
  return {
    status: 200,
    contentType: 'application/x-pkcs7-certificates',
    body: enc === 'bin' ? Buffer.from(der) : pem(der, 'CERTIFICATE'),
  };
}

export function crlResponse(der: ArrayBuffer, enc: Encoding): IisResponse {
  return { status: 200, contentType: 'application/pkix-crl', body: enc === 'bin' ? Buffer.from(der) : pem(der, 'X509 CRL') };
}
