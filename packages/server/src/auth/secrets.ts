import { randomBytes } from 'node:crypto';
import { digest } from '@certbridge/pki';

/**
 * Bearer secrets (API tokens, session ids) are 32 random bytes shown once; only their SHA-256
 * is stored. A fast hash is right here: the input has 256 bits of entropy, unlike a password.
 */
export function newBearerSecret(prefix: string): { secret: string; hash: string; displayPrefix: string } {
  const secret = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { secret, hash: hashBearerSecret(secret), displayPrefix: secret.slice(0, prefix.length + 7) };
}

export function hashBearerSecret(secret: string): string {
  return digest('sha256', secret, 'hex');
}
