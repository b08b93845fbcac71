/** What Key Vault import can read: PKCS#12 from Certbridge's builder and from OpenSSL, and PEM bundles. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPkcs12, exportPrivateKeyPkcs8Der, generateKeyPair, parseDn, pemEncode, randomSerial, signCertificate, spkiOf } from '@certbridge/pki';
import { ImportFormatError, readPem, readPkcs12 } from './pkcs12.ts';

const dir = mkdtempSync(join(tmpdir(), 'azsim-p12-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const keys = generateKeyPair('RSA-2048');
const now = Date.now();
const leafDer = Buffer.from(signCertificate({ serialNumber: randomSerial(), subject: parseDn('CN=leaf'), spkiDer: spkiOf(keys.publicKey), notBefore: new Date(now - 60_000), notAfter: new Date(now + 86_400_000) }, { selfSigned: keys.privateKey }));
const otherKeys = generateKeyPair('EC-P256');
const otherDer = Buffer.from(signCertificate({ serialNumber: randomSerial(), subject: parseDn('CN=other'), spkiDer: spkiOf(otherKeys.publicKey), notBefore: new Date(now - 60_000), notAfter: new Date(now + 86_400_000) }, { selfSigned: otherKeys.privateKey }));
const certPem = pemEncode('CERTIFICATE', leafDer);
const keyPem = pemEncode('PRIVATE KEY', exportPrivateKeyPkcs8Der(keys.privateKey));

/** Runs `openssl pkcs12 -export` with extra options and returns the file. */
function opensslPfx(name: string, extra: string[]): Buffer {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const out = join(dir, `${name}.p12`);
  execFileSync('sh', ['-c', `printf '%s' "$1" > "$2"; printf '%s' "$3" > "$4"`, 'sh', certPem + pemEncode('CERTIFICATE', otherDer), cert, keyPem, key]);
  execFileSync('openssl', ['pkcs12', '-export', '-in', cert, '-inkey', key, '-out', out, '-passout', 'pass:s3cret', ...extra], { stdio: 'ignore' });
  return readFileSync(out);
}

const leafFirst = (m: { certificates: Buffer[] }) => m.certificates.map((c) => c.equals(leafDer));

describe('readPkcs12', () => {
  it('ok/Certbridge PKCS#12 (PBES2 AES-256, HMAC-SHA256) with chain: leaf first', () => {
    // buildPkcs12 takes plain Uint8Arrays: a pooled Buffer's .slice() is a view, not a copy.
    const pfx = Buffer.from(buildPkcs12({ privateKey: keys.privateKey, certificateDer: new Uint8Array(leafDer), chainDer: [new Uint8Array(otherDer)], password: 'pw' }));
    expect(leafFirst(readPkcs12(pfx, 'pw'))).toEqual([true, false]);
  });

  it('ok/OpenSSL 3 default PKCS#12, the leaf identified by its key even when listed second', () => {
    expect(leafFirst(readPkcs12(opensslPfx('modern', []), 's3cret'))).toEqual([true, false]);
  });

  it('ok/OpenSSL pbeWithSHAAnd3-KeyTripleDES-CBC with a SHA-1 MAC', () => {
    expect(leafFirst(readPkcs12(opensslPfx('tdes', ['-certpbe', 'PBE-SHA1-3DES', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1']), 's3cret'))).toEqual([true, false]);
  });

  it.each([
    ['fail/wrong password', () => readPkcs12(opensslPfx('wrongpw', []), 'nope'), 'MAC mismatch (wrong password)'],
    ['fail/no private key inside', () => readPkcs12(opensslPfx('nokey', ['-nokeys']), 's3cret'), 'no private key'],
    ['fail/not PKCS#12', () => readPkcs12(Buffer.from('hello'), 'x'), 'not PKCS#12'],
  ])('%s', (_name, fn, message) => {
    expect(fn).toThrow(new ImportFormatError(message));
  });
});

describe('readPem', () => {
  it('ok/certificate, key and another certificate in any order', () => {
    expect(leafFirst(readPem(pemEncode('CERTIFICATE', otherDer) + keyPem + certPem, undefined))).toEqual([true, false]);
  });

  it('ok/an encrypted PKCS#8 key opened with the password', () => {
    const encrypted = keys.privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'k3y' }) as string;
    expect(leafFirst(readPem(certPem + encrypted, 'k3y'))).toEqual([true]);
  });

  it.each([
    ['fail/no key', () => readPem(certPem, undefined), 'no private key'],
    ['fail/key of another certificate', () => readPem(pemEncode('CERTIFICATE', otherDer) + keyPem, undefined), 'the private key matches no certificate'],
    ['fail/encrypted key with a wrong password', () => readPem(certPem + (keys.privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'k3y' }) as string), 'bad'), 'private key cannot be read'],
  ])('%s', (_name, fn, message) => {
    expect(fn).toThrow(new ImportFormatError(message));
  });
});
