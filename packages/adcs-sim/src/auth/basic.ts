/**
 * HTTP Basic (RFC 7617) as IIS Basic authentication does it: the credentials are checked on
 * every request against the directory; the user name may carry the domain.
 */
import { timingSafeEqual } from 'node:crypto';
import type { UserConfig } from '../config.ts';
import { findAccount, splitLogon, type Directory } from './accounts.ts';

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Verifies a Basic token (the part after `Basic `); undefined when malformed or wrong. */
export function verifyBasic(dir: Directory, token: string): UserConfig | undefined {
  const decoded = Buffer.from(token.trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  const { domain, user } = splitLogon(decoded.slice(0, colon));
  const account = findAccount(dir, domain, user);
  if (!account || !sameSecret(account.password, decoded.slice(colon + 1))) return undefined;
  return account;
}
