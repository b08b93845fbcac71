import { createHash } from 'node:crypto';
import { parseDn } from '@certbridge/pki';

/** Key Vault object names: 1 to 127 characters of [0-9a-zA-Z-] (Import Certificate, URI parameters). */
export const VAULT_NAME_PATTERN = /^[0-9a-zA-Z-]{1,127}$/;

/** Room for the readable part; the rest is "-" and the lineage id. */
const MAX_BASE = 90;

/**
 * The readable part of a vault name: the certificate's common name (a leading "*." reads as
 * "wildcard"), else the profile slug, reduced to [0-9a-z-]. Key Vault compares names without
 * regard to case, so lowercase keeps two spellings of one host from looking like two names.
 */
export function vaultNameBase(subject: string, profileSlug: string | null): string {
  let cn: string | undefined;
  try {
    cn = parseDn(subject).find((a) => a.type === 'CN')?.value;
  } catch {
    // A subject this parser cannot read still gets a name from the profile slug.
    cn = undefined;
  }
  const source = cn ? cn.replace(/^\*\./, 'wildcard.') : (profileSlug ?? '');
  const base = source.toLowerCase().replace(/[^0-9a-z]+/g, '-').replace(/^-+|-+$/g, '').slice(0, MAX_BASE).replace(/-+$/, '');
  return base || 'certificate';
}

/**
 * The vault name of a renewal lineage: readable base + a short id derived from the lineage's
 * first certificate id, so it is stable across renewals. `long` widens the id to the full hash
 * for the (rare) case where the short one is already taken within the sync.
 */
export function vaultName(base: string, lineageId: string, long = false): string {
  const id = createHash('sha256').update(lineageId).digest('hex').slice(0, long ? 32 : 10);
  return `${base}-${id}`;
}
