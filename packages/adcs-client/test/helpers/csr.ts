/** PKCS#10 requests for tests, generated per run with @peculiar/x509 (RSA 2048, as ADCS templates expect). */
import './pki.ts';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const;

let keys: webcrypto.CryptoKeyPair | undefined;

export async function makeCsr(commonName: string, dnsNames: string[] = []): Promise<string> {
  keys ??= await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: RSA,
    extensions: dnsNames.length > 0 ? [new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: 'dns' as const, value })))] : [],
  });
  return csr.toString('pem');
}
