/**
 * Compact JWS (RFC 7515). Entra signs with RS256; client assertions arrive as RS256 (MSAL with
 * a SHA-1 `x5t`) or PS256 (MSAL with `x5t#S256`, what @azure/identity sends). Decoding never
 * trusts the header's `alg` beyond picking one of these two.
 */
import { constants, createSign, createVerify, type KeyObject } from 'node:crypto';

export type JwtHeader = Record<string, unknown> & { alg?: unknown; kid?: unknown; x5t?: unknown; 'x5t#S256'?: unknown; typ?: unknown };
export type JwtClaims = Record<string, unknown>;

export interface DecodedJwt {
  header: JwtHeader;
  claims: JwtClaims;
  signingInput: string;
  signature: Buffer;
}

export function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

export function signJwt(header: JwtHeader, claims: JwtClaims, key: KeyObject): string {
  const input = `${b64url(JSON.stringify({ ...header, alg: 'RS256' }))}.${b64url(JSON.stringify(claims))}`;
  const sig = createSign('RSA-SHA256').update(input).sign(key);
  return `${input}.${b64url(sig)}`;
}

const SEGMENT = /^[A-Za-z0-9_-]*$/;

function decodeObject(segment: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Splits and decodes a compact JWS; undefined when it is not one (wrong part count, bad base64url or JSON). */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p)) || parts[0] === '' || parts[1] === '') return undefined;
  const header = decodeObject(parts[0]);
  const claims = decodeObject(parts[1]);
  if (!header || !claims) return undefined;
  return { header, claims, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
}

/** True when `jwt` carries a valid RS256 or PS256 (salt = digest length, RFC 7518 section 3.5) signature by `publicKey`. */
export function verifyRsaJwt(jwt: DecodedJwt, publicKey: KeyObject): boolean {
  if (publicKey.asymmetricKeyType !== 'rsa') return false;
  const verifier = createVerify('RSA-SHA256').update(jwt.signingInput);
  try {
    if (jwt.header.alg === 'RS256') return verifier.verify(publicKey, jwt.signature);
    if (jwt.header.alg === 'PS256') {
      return verifier.verify({ key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, jwt.signature);
    }
    return false;
  } catch {
    return false;
  }
}
