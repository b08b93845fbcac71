import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { exportJWK, FlattenedSign } from 'jose';
import { describe, expect, it } from 'vitest';
import { importAccountKey, verifySignature, type FlattenedJws } from './jws.ts';

type Alg = 'ES256' | 'ES384' | 'RS256' | 'EdDSA';
const pairs: Record<Alg, { privateKey: KeyObject; publicKey: KeyObject }> = {
  ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  ES384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  RS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  EdDSA: generateKeyPairSync('ed25519'),
};
const jwkOf = async (alg: Alg) => (await exportJWK(pairs[alg].publicKey)) as Record<string, unknown>;
async function signed(alg: Alg): Promise<FlattenedJws> {
  const jws = await new FlattenedSign(new TextEncoder().encode('{"status":"valid"}')).setProtectedHeader({ alg, url: 'https://ca.test/acme/x/new-order', nonce: 'n' }).sign(pairs[alg].privateKey);
  return { protected: jws.protected ?? '', payload: jws.payload, signature: jws.signature };
}

describe('ACME account keys and JWS signatures', () => {
  it.each(['ES256', 'ES384', 'RS256', 'EdDSA'] as const)('ok/%s: an account key verifies its own signature', async (alg) => {
    await expect(verifySignature(await signed(alg), await importAccountKey(await jwkOf(alg), alg))).resolves.toBeUndefined();
  });

  it('ok/the same JWK is imported once (the cached key object comes back)', async () => {
    const jwk = await jwkOf('ES256');
    expect(await importAccountKey({ ...jwk }, 'ES256')).toBe(await importAccountKey({ ...jwk }, 'ES256'));
  });

  it.each([
    ['fail/a P-384 key for ES256', 'ES384', 'ES256', 'the JWK cannot be used with ES256: key type EC P-384 cannot verify ES256'],
    ['fail/an RSA key for EdDSA', 'RS256', 'EdDSA', 'the JWK cannot be used with EdDSA: key type RSA cannot verify EdDSA'],
  ] as const)('%s is badPublicKey', async (_name, keyAlg, alg, detail) => {
    await expect(importAccountKey(await jwkOf(keyAlg), alg)).rejects.toMatchObject({ type: 'badPublicKey', message: detail });
  });

  it('fail/a JWK whose key_ops exclude "verify" is badPublicKey', async () => {
    await expect(importAccountKey({ ...(await jwkOf('ES256')), key_ops: ['sign'] }, 'ES256')).rejects.toMatchObject({ type: 'badPublicKey' });
  });

  it('fail/a signature by another key does not verify (malformed)', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = await importAccountKey((await exportJWK(other.publicKey)) as Record<string, unknown>, 'ES256');
    await expect(verifySignature(await signed('ES256'), key)).rejects.toMatchObject({ type: 'malformed', message: 'the JWS signature does not verify' });
  });

  it('fail/a header alg other than the one the key was imported for is malformed', async () => {
    const key = await importAccountKey(await jwkOf('ES256'), 'ES256');
    await expect(verifySignature(await signed('ES384'), key)).rejects.toMatchObject({ type: 'malformed', message: 'the JWS algorithm ES384 is not the one its key was imported for' });
  });

  it('fail/an algorithm outside the allowed list is malformed', async () => {
    const key = await importAccountKey(await jwkOf('ES256'), 'ES256');
    await expect(verifySignature(await signed('ES256'), key, ['RS256'])).rejects.toMatchObject({ type: 'malformed' });
  });
});
