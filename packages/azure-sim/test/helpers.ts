/** Test helpers: raw HTTPS calls that trust the emulator's CA, a self-signed client certificate, and PKCE values. */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:https';
import { buildPkcs12, exportPrivateKeyPkcs8Der, generateKeyPair, parseDn, pemEncode, randomSerial, signCertificate, spkiOf } from '@certbridge/pki';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => Record<string, unknown>;
}

export function https(url: string, ca: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

export function form(fields: Record<string, string>): { headers: Record<string, string>; body: string } {
  return { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() };
}

/** An RSA-2048 self-signed certificate and key, as PEM (what an app registration's certificate credential holds). */
export function selfSignedRsa(cn = 'certbridge-client'): { certPem: string; keyPem: string } {
  const keys = generateKeyPair('RSA-2048');
  const now = Date.now();
  const der = signCertificate(
    { serialNumber: randomSerial(), subject: parseDn(`CN=${cn}`), spkiDer: spkiOf(keys.publicKey), notBefore: new Date(now - 60_000), notAfter: new Date(now + 86_400_000) },
    { selfSigned: keys.privateKey },
  );
  return { certPem: pemEncode('CERTIFICATE', der), keyPem: pemEncode('PRIVATE KEY', exportPrivateKeyPkcs8Der(keys.privateKey)) };
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Decodes a JWT's claims without checking it (tests inspect what the emulator issued). */
export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A CA-issued EC P-256 leaf with its CA, as PKCS#12 (base64-ready bytes) and PEM (leaf + key + CA). */
export function issuedPfx(cn: string, password: string): { pfx: Uint8Array; pem: string; leafDer: Uint8Array; caDer: Uint8Array } {
  const now = Date.now();
  const caKeys = generateKeyPair('EC-P256');
  const caDer = signCertificate(
    { serialNumber: randomSerial(), subject: parseDn('CN=Test Issuing CA'), spkiDer: spkiOf(caKeys.publicKey), notBefore: new Date(now - 60_000), notAfter: new Date(now + 10 * 86_400_000), ca: {}, keyUsages: ['keyCertSign', 'cRLSign'] },
    { selfSigned: caKeys.privateKey },
  );
  const keys = generateKeyPair('EC-P256');
  const leafDer = signCertificate(
    { serialNumber: randomSerial(), subject: parseDn(`CN=${cn}`), spkiDer: spkiOf(keys.publicKey), sans: [{ type: 'dns', value: cn }], notBefore: new Date(now - 60_000), notAfter: new Date(now + 5 * 86_400_000), keyUsages: ['digitalSignature'], extendedKeyUsages: ['1.3.6.1.5.5.7.3.1'] },
    { certificateDer: caDer, privateKey: caKeys.privateKey },
  );
  const pfx = buildPkcs12({ privateKey: keys.privateKey, certificateDer: leafDer, chainDer: [caDer], password });
  const pem = pemEncode('CERTIFICATE', leafDer) + pemEncode('PRIVATE KEY', exportPrivateKeyPkcs8Der(keys.privateKey)) + pemEncode('CERTIFICATE', caDer);
  return { pfx, pem, leafDer, caDer };
}
