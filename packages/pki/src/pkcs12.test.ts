import { afterAll, describe, expect, it } from 'vitest';
import { buildPkcs12, pkcs12Kdf } from './pkcs12.ts';
import { importPrivateKey, spkiOf, type KeyAlgorithm } from './keys.ts';
import { parseCertificate } from './certificate.ts';
import { pemDecodeAll } from './pem.ts';
import { PkiError } from './errors.ts';
import { generateKeyPair } from './keys.ts';
import { makeIssued, makeRoot, openssl, workdir } from './test-helpers.ts';

const wd = workdir();
afterAll(() => wd.cleanup());
const root = makeRoot('EC-P256');

describe('pkcs12', () => {
  it.each<[KeyAlgorithm, string]>([['EC-P256', 'correct horse'], ['RSA-2048', 'pässwörd ✓']])('ok/%s opens with openssl pkcs12 (no legacy provider)', (alg, password) => {
    const leaf = makeIssued(root, alg);
    const file = wd.write(`${alg}.p12`, buildPkcs12({ privateKey: leaf.privateKey, certificateDer: leaf.certificateDer, chainDer: [root.certificateDer], password, friendlyName: 'web 1' }));
    const res = openssl(['pkcs12', '-in', file, '-info', '-nodes', '-passin', `pass:${password}`]);
    const key = importPrivateKey(res.out);
    const certs = pemDecodeAll(res.out, 'CERTIFICATE').map((c) => parseCertificate(c).fingerprintSha256);
    expect({
      status: res.status, mac: res.out.includes('MAC: sha256, Iteration 10000'),
      pbes2: res.out.split('\n').filter((l) => l.includes('PBES2')).length, friendlyName: res.out.includes('friendlyName: web 1'),
      keyMatches: Buffer.compare(spkiOf(key), spkiOf(leaf.keys.publicKey)) === 0, certs,
    }).toEqual({
      status: 0, mac: true, pbes2: 2, friendlyName: true, keyMatches: true,
      certs: [parseCertificate(leaf.certificateDer).fingerprintSha256, parseCertificate(root.certificateDer).fingerprintSha256],
    });
  });

  it('ok/certificates given as Buffers that are views into a larger pool (node-postgres rows) still open', () => {
    const leaf = makeIssued(root, 'EC-P256');
    const pooled = (der: Uint8Array): Buffer => {
      const pool = Buffer.alloc(der.length + 200, 0xee);
      Buffer.from(der).copy(pool, 100);
      return pool.subarray(100, 100 + der.length);
    };
    const file = wd.write('pooled.p12', buildPkcs12({ privateKey: leaf.privateKey, certificateDer: pooled(leaf.certificateDer), chainDer: [pooled(root.certificateDer)], password: 'pw' }));
    const res = openssl(['pkcs12', '-in', file, '-nokeys', '-passin', 'pass:pw']);
    expect([res.status, pemDecodeAll(res.out, 'CERTIFICATE').map((c) => parseCertificate(c).fingerprintSha256)])
      .toEqual([0, [parseCertificate(leaf.certificateDer).fingerprintSha256, parseCertificate(root.certificateDer).fingerprintSha256]]);
  });

  it('fail/wrong password is refused by openssl', () => {
    const leaf = makeIssued(root, 'EC-P256');
    const file = wd.write('wrong.p12', buildPkcs12({ privateKey: leaf.privateKey, certificateDer: leaf.certificateDer, password: 'right' }));
    const res = openssl(['pkcs12', '-in', file, '-info', '-nodes', '-passin', 'pass:wrong']);
    expect([res.status, res.out.includes('Mac verify error: invalid password?')]).toEqual([1, true]);
  });

  it.each([
    ['fail/empty password', () => { const l = makeIssued(root, 'EC-P256'); return { privateKey: l.privateKey, certificateDer: l.certificateDer, password: '' }; },
      new PkiError('MALFORMED', 'PKCS#12 password must not be empty')],
    ['fail/key does not match certificate', () => ({ privateKey: generateKeyPair('EC-P256').privateKey, certificateDer: root.certificateDer, password: 'x' }),
      new PkiError('MALFORMED', 'PKCS#12: private key does not match the certificate')],
  ])('%s', (_n, make, error) => {
    expect(() => buildPkcs12(make())).toThrow(error);
  });

  // RFC 7292 appendix B with SHA-256, checked against OpenSSL's PKCS12KDF provider, which takes the password already as a BMPString with terminator.
  it('ok/PKCS#12 KDF matches openssl kdf PKCS12KDF', () => {
    const salt = Buffer.from('0102030405060708', 'hex');
    const res = openssl(['kdf', '-keylen', '32', '-kdfopt', 'digest:SHA256', '-kdfopt', 'hexpass:0073006d006500670000', '-kdfopt', `hexsalt:${salt.toString('hex')}`,
      '-kdfopt', 'iter:1000', '-kdfopt', 'id:3', 'PKCS12KDF']);
    expect(Buffer.from(pkcs12Kdf('smeg', salt, 3, 1000, 32)).toString('hex').toUpperCase().match(/../g)?.join(':')).toBe(res.out.trim());
  });
});
