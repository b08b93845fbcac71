/**
 * Access tokens the emulated Entra issues and the emulated resources (Graph, Key Vault) accept:
 * v1.0-format JWTs signed RS256 by the emulator's key, with `aud` set to the resource URI,
 * `roles` (application permissions) or `scp` (delegated scopes), `tid`, `appid` and `exp`.
 */
import { createHash, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { decodeJwt, signJwt, verifyRsaJwt, type JwtClaims } from './jwt.ts';
import type { Clock } from './directory.ts';

export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
export const VAULT_RESOURCE = 'https://vault.azure.net';
/** First-party application ids Entra also accepts as scope prefixes. */
export const RESOURCE_APP_IDS: Record<string, string> = {
  '00000003-0000-0000-c000-000000000000': GRAPH_RESOURCE,
  'cfa8b339-82a2-471a-a3c9-0fc0be7a4093': VAULT_RESOURCE,
};

export interface AccessTokenSubject {
  tenantId: string;
  appId: string;
  resource: string;
  /** Service principal object id for app-only tokens, the user's object id for delegated ones. */
  oid: string;
  roles?: string[];
  scp?: string[];
  upn?: string;
  /** Lifetime in seconds; negative values make already-expired tokens for tests. */
  lifetimeSeconds: number;
}

export interface AccessTokenClaims {
  aud: string;
  iss: string;
  tid: string;
  appid: string;
  oid: string;
  exp: number;
  nbf: number;
  roles: string[];
  scp: string[];
  upn?: string;
  idtyp: 'app' | 'user';
}

export type TokenCheck = { ok: true; claims: AccessTokenClaims } | { ok: false; reason: 'malformed' | 'signature' | 'expired' | 'not-yet-valid' | 'audience' };

export class TokenService {
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Key id as Entra publishes it in the JWKS (`kid` and `x5t` carry the same value). */
  readonly kid: string;

  constructor(private readonly clock: Clock) {
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = keys.privateKey;
    this.publicKey = keys.publicKey;
    this.kid = createHash('sha1').update(keys.publicKey.export({ format: 'der', type: 'spki' })).digest('base64url');
  }

  issue(s: AccessTokenSubject): { token: string; expiresIn: number } {
    const now = Math.floor(this.clock.now() / 1000);
    const claims: JwtClaims = {
      aud: s.resource,
      iss: `https://sts.windows.net/${s.tenantId}/`,
      iat: now,
      nbf: now,
      exp: now + s.lifetimeSeconds,
      appid: s.appId,
      appidacr: '1',
      idtyp: s.scp ? 'user' : 'app',
      oid: s.oid,
      sub: s.oid,
      tid: s.tenantId,
      uti: randomUUID().replace(/-/g, ''),
      ver: '1.0',
      ...(s.roles ? { roles: s.roles } : {}),
      ...(s.scp ? { scp: s.scp.join(' ') } : {}),
      ...(s.upn ? { upn: s.upn, unique_name: s.upn } : {}),
    };
    return { token: signJwt({ typ: 'JWT', kid: this.kid, x5t: this.kid }, claims, this.privateKey), expiresIn: s.lifetimeSeconds };
  }

  /** An OpenID Connect v2.0 id_token for the signed-in user. */
  idToken(o: { issuer: string; audience: string; tenantId: string; oid: string; upn: string; name: string; lifetimeSeconds: number }): string {
    const now = Math.floor(this.clock.now() / 1000);
    const claims: JwtClaims = {
      aud: o.audience, iss: o.issuer, iat: now, nbf: now, exp: now + o.lifetimeSeconds,
      name: o.name, oid: o.oid, preferred_username: o.upn, sub: o.oid, tid: o.tenantId, ver: '2.0',
    };
    return signJwt({ typ: 'JWT', kid: this.kid }, claims, this.privateKey);
  }

  /** Checks signature, lifetime (with Entra's five-minute clock skew) and audience. */
  verify(token: string, audience: string): TokenCheck {
    const jwt = decodeJwt(token);
    if (!jwt) return { ok: false, reason: 'malformed' };
    if (jwt.header.alg !== 'RS256' || !verifyRsaJwt(jwt, this.publicKey)) return { ok: false, reason: 'signature' };
    const c = jwt.claims;
    if (typeof c.exp !== 'number' || typeof c.nbf !== 'number' || typeof c.tid !== 'string' || typeof c.appid !== 'string' || typeof c.oid !== 'string') {
      return { ok: false, reason: 'malformed' };
    }
    const now = this.clock.now() / 1000;
    if (c.exp <= now - 300) return { ok: false, reason: 'expired' };
    if (c.nbf > now + 300) return { ok: false, reason: 'not-yet-valid' };
    if (c.aud !== audience && c.aud !== `${audience}/`) return { ok: false, reason: 'audience' };
    return {
      ok: true,
      claims: {
        aud: String(c.aud), iss: String(c.iss), tid: c.tid, appid: c.appid, oid: c.oid, exp: c.exp, nbf: c.nbf,
        roles: Array.isArray(c.roles) ? c.roles.filter((r): r is string => typeof r === 'string') : [],
        scp: typeof c.scp === 'string' ? c.scp.split(' ').filter(Boolean) : [],
        ...(typeof c.upn === 'string' ? { upn: c.upn } : {}),
        idtyp: c.idtyp === 'user' ? 'user' : 'app',
      },
    };
  }

  /** The signing key as a JWKS entry (`/{tenant}/discovery/v2.0/keys`). */
  jwk(): Record<string, unknown> {
    const jwk = this.publicKey.export({ format: 'jwk' });
    return { kty: 'RSA', use: 'sig', kid: this.kid, x5t: this.kid, n: jwk.n, e: jwk.e };
  }
}
