import { calculateJwkThumbprint, flattenedVerify, importJWK, type JWK } from 'jose';
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

type ImportedKey = Awaited<ReturnType<typeof importJWK>>;
/** Imported public keys by algorithm and JWK: every kid-signed request imports its account key again. */
const imported = new Map<string, ImportedKey>();
const IMPORTED_MAX = 2000;

/** Imports an account public key for the header's algorithm; private or weak keys are refused. */
export async function importAccountKey(jwk: Record<string, unknown>, alg: string): Promise<ImportedKey> {
  if ('d' in jwk || 'p' in jwk || 'k' in jwk) throw new AcmeProblem('badPublicKey', 'the JWK must be a public key');
  if (jwk['kty'] === 'RSA' && typeof jwk['n'] === 'string' && Buffer.from(jwk['n'], 'base64url').length * 8 < MIN_RSA_BITS) {
    throw new AcmeProblem('badPublicKey', `RSA account keys must have at least ${MIN_RSA_BITS} bits`);
  }
  const cacheKey = `${alg} ${JSON.stringify(jwk)}`;
  const hit = imported.get(cacheKey);
  if (hit) return hit;
  let key: ImportedKey;
  try {
    key = await importJWK(jwk as JWK, alg);
  } catch (err) {
    throw new AcmeProblem('badPublicKey', `the JWK cannot be used with ${alg}: ${(err as Error).message}`, { cause: err });
  }
  if (imported.size >= IMPORTED_MAX) imported.clear();
  imported.set(cacheKey, key);
  return key;
}

/** RFC 7638 thumbprint (SHA-256, base64url): identifies an account key and ends key authorizations. */
export const jwkThumbprint = (jwk: Record<string, unknown>): Promise<string> => calculateJwkThumbprint(jwk as JWK, 'sha256');

/** Verifies the signature with the given key (or secret); a mismatch is `malformed` (section 6.2). */
export async function verifySignature(jws: FlattenedJws, key: Awaited<ReturnType<typeof importJWK>> | Uint8Array, algorithms: readonly string[] = JWS_ALGORITHMS): Promise<void> {
  try {
    await flattenedVerify(jws, key, { algorithms: [...algorithms] });
  } catch (err) {
    throw new AcmeProblem('malformed', 'the JWS signature does not verify', { cause: err });
  }
}
