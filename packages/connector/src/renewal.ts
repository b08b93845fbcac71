import { createPrivateKey, X509Certificate } from 'node:crypto';
import { buildCsr, generateKeyPair, parseDn, pemEncode } from '@certbridge/pki';

/** By default a certificate is renewed once less than a third of its lifetime is left (30 of 90 days). */
export const RENEW_AT_REMAINING_FRACTION = 1 / 3;

/** Whether the client certificate should be renewed now; `renewBeforeMs` overrides the fraction rule. */
export function renewalDue(certificatePem: string, now: number, renewBeforeMs?: number): boolean {
  const cert = new X509Certificate(certificatePem);
  const from = new Date(cert.validFrom).getTime();
  const to = new Date(cert.validTo).getTime();
  const before = renewBeforeMs ?? (to - from) * RENEW_AT_REMAINING_FRACTION;
  return to - now <= before;
}

/** A fresh key, generated here and never sent anywhere, and the CSR the server signs over the socket. */
export function renewalRequest(commonName: string): { keyPem: string; csrPem: string } {
  const pair = generateKeyPair('EC-P256');
  const csrPem = pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn(`CN=${commonName}`), privateKey: pair.privateKey, publicKey: pair.publicKey }));
  return { keyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), csrPem };
}

/** The server's answer must certify the key this connector generated (nothing else is saved). */
export function certifiesKey(certificatePem: string, keyPem: string): boolean {
  try {
    return new X509Certificate(certificatePem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}
