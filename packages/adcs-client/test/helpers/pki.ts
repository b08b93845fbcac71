/**
 * Throwaway test PKI: a root CA and TLS server certificates, generated per run with
 * @peculiar/x509 (no fixtures on disk, nothing to expire in the repository).
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export interface TestCertificate {
  certPem: string;
  keyPem: string;
  der: Buffer;
}

export interface TestPki {
  root: TestCertificate;
  issue(options: ServerCertOptions): Promise<TestCertificate>;
}

export interface ServerCertOptions {
  dnsNames?: string[];
  ips?: string[];
  notBefore?: Date;
  notAfter?: Date;
  hash?: 'SHA-256' | 'SHA-384' | 'SHA-512';
}

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;

function pemKey(pkcs8: ArrayBuffer): string {
  return x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
}

export async function createTestPki(name = 'Certbridge Test Root'): Promise<TestPki> {
  const rootKeys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const rootCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys: rootKeys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const root: TestCertificate = {
    certPem: rootCert.toString('pem'),
    keyPem: pemKey(await webcrypto.subtle.exportKey('pkcs8', rootKeys.privateKey)),
    der: Buffer.from(rootCert.rawData),
  };
  let serial = 2;
  return {
    root,
    async issue(options: ServerCertOptions): Promise<TestCertificate> {
      const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
      const names = [
        ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
        ...(options.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
      ];
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: (serial++).toString(16).padStart(2, '0'),
        subject: `CN=${options.dnsNames?.[0] ?? options.ips?.[0] ?? 'server'}`,
        issuer: rootCert.subject,
        notBefore: options.notBefore ?? new Date(Date.now() - 3_600_000),
        notAfter: options.notAfter ?? new Date(Date.now() + 86_400_000),
        publicKey: keys.publicKey,
        signingKey: rootKeys.privateKey,
        signingAlgorithm: { name: 'ECDSA', hash: options.hash ?? 'SHA-256' },
        extensions: [
          new x509.SubjectAlternativeNameExtension(names),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        ],
      });
      return {
        certPem: cert.toString('pem'),
        keyPem: pemKey(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
        der: Buffer.from(cert.rawData),
      };
    },
  };
}
