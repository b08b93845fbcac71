import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import {
  KEY_ALGORITHMS, describePublicKey, exportPrivateKeyPkcs8Der, generateKeyPair, importPrivateKey, spkiOf, type PublicKeyDescription,
} from './keys.ts';
import { PkiError } from './errors.ts';
import { openssl, workdir } from './test-helpers.ts';

const wd = workdir();
afterAll(() => wd.cleanup());

describe('keys', () => {
  it.each(KEY_ALGORITHMS.map((a) => [`ok/generate ${a}`, a] as const))('%s', (_n, alg) => {
    const { privateKey, publicKey } = generateKeyPair(alg);
    expect([describePublicKey(spkiOf(publicKey)).algorithm, privateKey.type]).toEqual([alg, 'private']);
  });

  it.each<[string, () => Uint8Array, PublicKeyDescription]>([
    ['ok/describe P-256', () => spkiOf(generateKeyPair('EC-P256').publicKey), { algorithm: 'EC-P256', family: 'EC', bits: 256, curve: 'P-256' }],
    ['ok/describe P-521 is not ours', () => spkiOf(generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).publicKey), { algorithm: null, family: 'EC', bits: 521, curve: 'P-521' }],
    ['ok/describe RSA-1024 is not ours', () => spkiOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey), { algorithm: null, family: 'RSA', bits: 1024 }],
    ['ok/describe Ed25519', () => spkiOf(generateKeyPairSync('ed25519').publicKey), { algorithm: null, family: 'Ed25519', bits: 256 }],
  ])('%s', (_n, make, expected) => {
    expect(describePublicKey(make())).toEqual(expected);
  });

  it.each([
    ['fail/describe truncated SPKI', () => spkiOf(generateKeyPair('EC-P256').publicKey).subarray(0, 40)],
    ['fail/describe random bytes', () => new Uint8Array([0x30, 0x05, 1, 2, 3, 4, 5])],
  ])('%s', (_n, make) => {
    expect(() => describePublicKey(make())).toThrow(PkiError);
  });

  // Keys written by OpenSSL in each encoding a CA import may receive.
  it.each([
    ['ok/import PKCS#8 PEM (openssl genpkey)', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'], [], 'EC-P384'],
    ['ok/import SEC1 EC PEM', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], ['-traditional'], 'EC-P256'],
    ['ok/import PKCS#1 RSA PEM', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], ['-traditional'], 'RSA-2048'],
  ])('%s', (name, gen, conv, alg) => {
    const file = wd.path(`${name.replace(/\W/g, '')}.pem`);
    expect(openssl([...gen, '-out', file]).status).toBe(0);
    const out = openssl(['pkey', '-in', file, ...conv]);
    const key = importPrivateKey(out.out);
    expect(describePublicKey(spkiOf(key)).algorithm).toBe(alg);
  });

  it.each(['pkcs8', 'pkcs1', 'sec1'] as const)('ok/import DER %s', (type) => {
    const pair = type === 'pkcs1' ? generateKeyPair('RSA-2048') : generateKeyPair('EC-P256');
    const der = new Uint8Array(pair.privateKey.export({ format: 'der', type }));
    expect(Buffer.compare(spkiOf(importPrivateKey(der)), spkiOf(pair.publicKey))).toBe(0);
  });

  it('ok/PKCS#8 export re-imports to the same key', () => {
    const pair = generateKeyPair('EC-P256');
    expect(Buffer.compare(spkiOf(importPrivateKey(exportPrivateKeyPkcs8Der(pair.privateKey))), spkiOf(pair.publicKey))).toBe(0);
  });

  it.each([
    ['fail/encrypted PKCS#8', () => generateKeyPair('EC-P256').privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'x' }) as string,
      new PkiError('UNSUPPORTED', 'encrypted private keys are not supported')],
    ['fail/certificate instead of key', () => '-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n',
      new PkiError('MALFORMED', 'no PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY PEM block')],
    ['fail/random DER', () => new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), new PkiError('MALFORMED', 'private key: not PKCS#8, PKCS#1 or SEC1 DER')],
  ])('%s', (_n, make, error) => {
    expect(() => importPrivateKey(make())).toThrow(error);
  });

  it('fail/export of a public key', () => {
    expect(() => exportPrivateKeyPkcs8Der(generateKeyPair('EC-P256').publicKey)).toThrow(new PkiError('UNSUPPORTED', 'not a private key'));
  });
});
