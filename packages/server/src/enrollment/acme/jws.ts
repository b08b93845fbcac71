import { createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, flattenedVerify, type JWK } from 'jose';
import { z } from 'zod';
import { AcmeProblem } from './problems.ts';

/** RFC 8555 section 6.2: the algorithms this server accepts (`badSignatureAlgorithm` lists them). */
export const JWS_ALGORITHMS = ['RS256', 'ES256', 'ES384', 'EdDSA'] as const;
const MIN_RSA_BITS = 2048;

const b64url = z.string().regex(/^[A-Za-z0-9_-]*$/, 'not base64url');
/** Flattened JSON serialization only: no unprotected header, no multiple signatures (section 6.2). */
const flattenedSchema = z.object({ protected: b64url.min(1), payload: b64url, signature: b64url.min(1) }).strict();
const headerSchema = z.object({
  alg: z.string(),
  nonce: z.string().min(1).optional(),
  url: z.string().min(1),
  jwk: z.record(z.unknown()).optional(),
  kid: z.string().min(1).optional(),
  b64: z.literal(true).optional(),
  crit: z.never().optional(),
}).passthrough();

export type FlattenedJws = z.infer<typeof flattenedSchema>;
export type ProtectedHeader = z.infer<typeof headerSchema>;

function decodeJson(part: string, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new AcmeProblem('malformed', `the JWS ${what} is not base64url-encoded JSON`);
  }
}

/** Decodes the JWS envelope and its protected header, checking every rule that needs no key. */
export function decodeJws(body: unknown): { jws: FlattenedJws; header: ProtectedHeader } {
  const parsed = flattenedSchema.safeParse(body);
  if (!parsed.success) throw new AcmeProblem('malformed', `the body is not a flattened JWS: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ')}`);
  const header = headerSchema.safeParse(decodeJson(parsed.data.protected, 'protected header'));
  if (!header.success) throw new AcmeProblem('malformed', `the JWS protected header is invalid: ${header.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  const h = header.data;
  if (!(JWS_ALGORITHMS as readonly string[]).includes(h.alg)) throw new AcmeProblem('badSignatureAlgorithm', `JWS algorithm ${h.alg} is not supported; use one of ${JWS_ALGORITHMS.join(', ')}`);
  if ((h.jwk === undefined) === (h.kid === undefined)) throw new AcmeProblem('malformed', 'the JWS protected header must carry exactly one of "jwk" and "kid"');
  return { jws: parsed.data, header: h };
}

/** The JSON payload, or null for POST-as-GET (empty payload, section 6.3). */
export function decodePayload(jws: FlattenedJws): unknown {
  return jws.payload === '' ? null : decodeJson(jws.payload, 'payload');
}

/**
 * An account public key ready to verify JWS signatures of one algorithm: a node:crypto KeyObject,
 * verified synchronously (WebCrypto's promise-based verify cost twice the CPU of the signature check).
 */
export interface AccountKey { alg: AccountKeyAlgorithm; key: KeyObject }
type AccountKeyAlgorithm = (typeof JWS_ALGORITHMS)[number];

/** How each accepted algorithm verifies (RFC 7518 section 3, RFC 8037 section 3.1), and the JWK it needs. */
const VERIFIERS: Record<AccountKeyAlgorithm, { kty: string; crv?: string; digest: string | null; options?: { dsaEncoding: 'ieee-p1363' } }> = {
  RS256: { kty: 'RSA', digest: 'sha256' },
  ES256: { kty: 'EC', crv: 'P-256', digest: 'sha256', options: { dsaEncoding: 'ieee-p1363' } },
  ES384: { kty: 'EC', crv: 'P-384', digest: 'sha384', options: { dsaEncoding: 'ieee-p1363' } },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', digest: null },
};

/**
 * Imported keys by algorithm and JWK, least recently used dropped first. Keyed by the key itself,
 * not the account: after a keyChange the account row names the new JWK (a new entry), and account
 * status (deactivation) is checked on the row of every request, never cached here.
 */
const imported = new Map<string, AccountKey>();
const IMPORTED_MAX = 2000;

function importKeyObject(jwk: Record<string, unknown>, alg: AccountKeyAlgorithm): AccountKey {
  const want = VERIFIERS[alg];
  if (jwk['kty'] !== want.kty || (want.crv !== undefined && jwk['crv'] !== want.crv)) {
    throw new Error(`key type ${String(jwk['kty'])}${jwk['crv'] === undefined ? '' : ` ${String(jwk['crv'])}`} cannot verify ${alg}`);
  }
  const ops = jwk['key_ops'];
  if (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify'))) throw new Error('its "key_ops" do not allow "verify"');
  const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  if (want.kty === 'RSA' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) throw new Error(`RSA keys must have at least ${MIN_RSA_BITS} bits`);
  return { alg, key };
}

/** Imports an account public key for the header's algorithm; private, weak or mismatched keys are refused. */
export async function importAccountKey(jwk: Record<string, unknown>, alg: string): Promise<AccountKey> {
  if ('d' in jwk || 'p' in jwk || 'k' in jwk) throw new AcmeProblem('badPublicKey', 'the JWK must be a public key');
  if (jwk['kty'] === 'RSA' && typeof jwk['n'] === 'string' && Buffer.from(jwk['n'], 'base64url').length * 8 < MIN_RSA_BITS) {
    throw new AcmeProblem('badPublicKey', `RSA account keys must have at least ${MIN_RSA_BITS} bits`);
  }
  if (!(JWS_ALGORITHMS as readonly string[]).includes(alg)) throw new AcmeProblem('badSignatureAlgorithm', `JWS algorithm ${alg} is not supported; use one of ${JWS_ALGORITHMS.join(', ')}`);
  const cacheKey = `${alg} ${JSON.stringify(jwk)}`;
  const hit = imported.get(cacheKey);
  if (hit) {
    imported.delete(cacheKey);
    imported.set(cacheKey, hit);
    return hit;
  }
  let key: AccountKey;
  try {
    key = importKeyObject(jwk, alg as AccountKeyAlgorithm);
  } catch (err) {
    throw new AcmeProblem('badPublicKey', `the JWK cannot be used with ${alg}: ${(err as Error).message}`, { cause: err });
  }
  if (imported.size >= IMPORTED_MAX) imported.delete(imported.keys().next().value!);
  imported.set(cacheKey, key);
  return key;
}

/** RFC 7638 thumbprint (SHA-256, base64url): identifies an account key and ends key authorizations. */
export const jwkThumbprint = (jwk: Record<string, unknown>): Promise<string> => calculateJwkThumbprint(jwk as JWK, 'sha256');

/** The alg of a JWS's protected header (decodeJws has checked that it is JSON with a string alg). */
const headerAlg = (jws: FlattenedJws): unknown => (decodeJson(jws.protected, 'protected header') as { alg?: unknown }).alg;

/**
 * Verifies the signature with an account key imported for the header's algorithm, or with an
 * HMAC secret (EAB); a mismatch is `malformed` (section 6.2). The header's alg must be in
 * `algorithms` and be the one the key was imported for.
 */
export async function verifySignature(jws: FlattenedJws, key: AccountKey | Uint8Array, algorithms: readonly string[] = JWS_ALGORITHMS): Promise<void> {
  if (key instanceof Uint8Array) {
    try {
      await flattenedVerify(jws, key, { algorithms: [...algorithms] });
    } catch (err) {
      throw new AcmeProblem('malformed', 'the JWS signature does not verify', { cause: err });
    }
    return;
  }
  const alg = headerAlg(jws);
  if (alg !== key.alg || !algorithms.includes(key.alg)) throw new AcmeProblem('malformed', `the JWS algorithm ${String(alg)} is not the one its key was imported for`);
  const { digest, options } = VERIFIERS[key.alg];
  let ok = false;
  try {
    ok = verify(digest, Buffer.from(`${jws.protected}.${jws.payload}`, 'ascii'), options ? { key: key.key, ...options } : key.key, Buffer.from(jws.signature, 'base64url'));
  } catch (err) {
    throw new AcmeProblem('malformed', 'the JWS signature does not verify', { cause: err });
  }
  if (!ok) throw new AcmeProblem('malformed', 'the JWS signature does not verify');
}
