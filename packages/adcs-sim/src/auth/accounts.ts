/**
 * Account lookup as a domain controller would do it for the emulated forest: names may come as
 * `DOMAIN\user`, `user@dns.domain` or bare `user`, compared case-insensitively.
 */
import type { UserConfig } from '../config.ts';

export interface Directory {
  domain: string;
  dnsDomain: string;
  users: UserConfig[];
}

/** Splits a logon name into domain (may be empty) and user. */
export function splitLogon(name: string): { domain: string; user: string } {
  const bs = name.indexOf('\\');
  if (bs >= 0) return { domain: name.slice(0, bs), user: name.slice(bs + 1) };
  const at = name.lastIndexOf('@');
  if (at > 0) return { domain: name.slice(at + 1), user: name.slice(0, at) };
  return { domain: '', user: name };
}

/** Finds the account; a domain part must name this domain (NetBIOS or DNS form). */
export function findAccount(dir: Directory, domain: string, user: string): UserConfig | undefined {
  const d = domain.toLowerCase();
  if (d && d !== dir.domain.toLowerCase() && d !== dir.dnsDomain.toLowerCase()) return undefined;
  return dir.users.find((u) => u.name.toLowerCase() === user.toLowerCase());
}
