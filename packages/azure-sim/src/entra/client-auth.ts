/**
 * Confidential client authentication at the token endpoint: `client_secret` (form or HTTP
 * Basic, RFC 6749 section 2.3.1) or a `client_assertion` JWT (RFC 7523) signed with a key of a
 * certificate registered on the app and identified by its `x5t` or `x5t#S256` header.
 */
import { timingSafeEqual } from 'node:crypto';
import type { AppRecord, Directory } from '../directory.ts';
import { decodeJwt, verifyRsaJwt } from '../jwt.ts';
import { aadsts } from './errors.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface ClientCredentials {
  secret?: string;
  assertion?: string;
  assertionType?: string;
}

/**
 * Throws the AADSTS error Entra gives for a bad credential. `audiences` are the token endpoint
 * URLs the assertion's `aud` may name (by tenant id or by domain).
 */
export function authenticateClient(dir: Directory, app: AppRecord, creds: ClientCredentials, audiences: string[]): void {
  if (creds.assertion !== undefined) {
    if (creds.assertionType !== ASSERTION_TYPE) throw aadsts.assertionType();
    checkAssertion(dir, app, creds.assertion, audiences);
    return;
  }
  if (creds.secret === undefined || creds.secret === '') throw aadsts.missingCredential();
  const now = dir.clock.now();
  const match = app.passwordCredentials.find((c) => sameSecret(c.secret, creds.secret ?? ''));
  // A secret still replicating is unknown to the token service that answers, so it reads as invalid.
  if (!match || match.usableAt > now || match.startDateTime.getTime() > now) throw aadsts.invalidSecret(app.appId);
  if (match.endDateTime.getTime() <= now) throw aadsts.expiredSecret(app.appId);
}

function checkAssertion(dir: Directory, app: AppRecord, assertion: string, audiences: string[]): void {
  const jwt = decodeJwt(assertion);
  if (!jwt) throw aadsts.malformedAssertion();
  const { x5t } = jwt.header;
  const x5tS256 = jwt.header['x5t#S256'];
  const key = app.keyCredentials.find((k) => (typeof x5tS256 === 'string' && k.x5tS256 === x5tS256) || (typeof x5t === 'string' && k.x5t === x5t));
  if (!key) {
    const shown = typeof x5tS256 === 'string' ? x5tS256 : typeof x5t === 'string' ? x5t : '';
    throw aadsts.assertionKeyNotFound(Buffer.from(shown, 'base64url').toString('hex').toUpperCase());
  }
  if (!verifyRsaJwt(jwt, key.publicKey)) throw aadsts.assertionSignature();
  const c = jwt.claims;
  if (c.iss !== app.appId || c.sub !== app.appId) throw aadsts.assertionSubject();
  if (typeof c.aud !== 'string' || !audiences.includes(c.aud)) throw aadsts.assertionAudience(audiences[0]);
  const now = dir.clock.now() / 1000;
  if (typeof c.exp !== 'number' || c.exp <= now - 300 || (typeof c.nbf === 'number' && c.nbf > now + 300)) throw aadsts.assertionLifetime();
  if (key.endDateTime.getTime() <= dir.clock.now()) throw aadsts.assertionLifetime();
}
