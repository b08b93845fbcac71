import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as der from './der.ts';
import { PkiError } from './errors.ts';
import { publicKeyFromSpki } from './keys.ts';
import { importEcFast } from './spki.ts';

const OID_EC = '1.2.840.10045.2.1';
const spkiOfKey = (key: KeyObject) => new Uint8Array(key.export({ format: 'der', type: 'spki' }));
const ecSpki = (curve: string) => spkiOfKey(generateKeyPairSync('ec', { namedCurve: curve }).publicKey);
/** An EC SubjectPublicKeyInfo (RFC 5480) around any point encoding. */
const spkiWithPoint = (curveOid: string, point: Uint8Array) => der.seq(der.seq(der.oid(OID_EC), der.oid(curveOid)), der.bitString(point));
/** The point of a P-256 SPKI: 0x04 || x || y, the last 65 bytes. */
const pointOf = (spki: Uint8Array) => spki.subarray(spki.length - 65);
const viaDer = (spki: Uint8Array) => createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });

describe('EC public keys imported through the JWK fast path', () => {
  it.each([['ok/P-256', 'prime256v1'], ['ok/P-384', 'secp384r1'], ['ok/P-521', 'secp521r1']])('%s: the same key as the DER import', (_name, curve) => {
    const spki = ecSpki(curve);
    const fast = importEcFast(spki);
    expect(fast).toBeDefined();
    expect(Buffer.from(spkiOfKey(fast!)).equals(Buffer.from(spki))).toBe(true);
    expect(fast!.equals(viaDer(spki))).toBe(true);
  });

  it('fail/a point off the curve is refused by the fast path and by publicKeyFromSpki', () => {
    const point = new Uint8Array(pointOf(ecSpki('prime256v1')));
    point[64] = (point[64] as number) ^ 1;
    const spki = spkiWithPoint('1.2.840.10045.3.1.7', point);
    expect(importEcFast(spki)).toBeUndefined();
    expect(() => publicKeyFromSpki(spki)).toThrow(PkiError);
    expect(() => viaDer(spki)).toThrow();
  });

  it('ok/a compressed point is left to the general path, which imports it', () => {
    const spki = ecSpki('prime256v1');
    const point = pointOf(spki);
    const compressed = Uint8Array.of(2 + ((point[64] as number) & 1), ...point.subarray(1, 33));
    const compressedSpki = spkiWithPoint('1.2.840.10045.3.1.7', compressed);
    expect(importEcFast(compressedSpki)).toBeUndefined();
    expect(publicKeyFromSpki(compressedSpki).equals(viaDer(spki))).toBe(true);
  });

  it.each([
    ['ok/RSA goes to the general path', () => spkiOfKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey)],
    ['ok/Ed25519 goes to the general path', () => spkiOfKey(generateKeyPairSync('ed25519').publicKey)],
    ['fail/trailing bytes after the SPKI', () => Uint8Array.of(...ecSpki('prime256v1'), 0)],
    ['fail/a point one byte short', () => spkiWithPoint('1.2.840.10045.3.1.7', pointOf(ecSpki('prime256v1')).subarray(0, 64))],
  ])('%s: not imported by the fast path', (_name, make) => {
    expect(importEcFast(make())).toBeUndefined();
  });
});
