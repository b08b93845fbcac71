import { KeytabError, keytabPrincipals } from '@certbridge/adcs-client';
import type { ConnectionRow } from '../db/schema.ts';
import { AppError } from '../errors.ts';

/** The Kerberos state a connection will have after a create or an update. */
export interface KerberosState {
  auth: ConnectionRow['auth'];
  username: string;
  domain: string;
  hasPassword: boolean;
  /** The principal of the keytab already stored (null: none). */
  keytabPrincipal: string | null;
  kdcs: string[] | null;
}

/** What to write: undefined leaves a column as it is, null clears it. */
export interface KerberosPatch {
  keytab?: { bytes: Buffer; principal: string } | null;
  kdcs?: string[] | null;
}

/** The principal kinit asks a ticket for (adcs-client TicketCache): `user@REALM`, the realm being the connection's domain. */
export const kinitPrincipal = (username: string, domain: string): string => (username.includes('@') ? username : `${username}@${domain.toUpperCase()}`);

const invalid = (field: string, message: string) => new AppError('VALIDATION_FAILED', message, { field });

/** Base64 that decodes to itself again (Buffer.from silently drops what is not base64). */
function decodeBase64(text: string): Buffer | undefined {
  const compact = text.replace(/\s+/g, '');
  const bytes = Buffer.from(compact, 'base64');
  return bytes.length > 0 && bytes.toString('base64').replace(/=+$/, '') === compact.replace(/=+$/, '') ? bytes : undefined;
}

/**
 * Checks a connection's keytab and KDC settings against the rest of it, so a mistake is a 400 when
 * it is saved instead of a failed kinit at the first issuance: the keytab must be an MIT keytab
 * holding exactly the principal the connection logs in as; a keytab or KDCs only go with `kerberos`
 * or `negotiate`; NTLM and Basic need a password; a kept keytab must still match after the user
 * name or domain changes.
 */
export function checkKerberos(current: KerberosState, input: { keytab?: string | null; kdcs?: string[] | null }): KerberosPatch {
  const principal = kinitPrincipal(current.username, current.domain);
  const patch: KerberosPatch = {};
  if (typeof input.keytab === 'string') {
    const bytes = decodeBase64(input.keytab);
    if (!bytes) throw invalid('keytab', 'keytab must be the base64 of a keytab file');
    let held: string[];
    try {
      held = keytabPrincipals(bytes);
    } catch (err) {
      if (err instanceof KeytabError) throw invalid('keytab', `keytab: ${err.message}`);
      throw err;
    }
    if (!held.includes(principal)) throw invalid('keytab', `the keytab holds ${held.join(', ')}, not ${principal} (the connection's username at its domain)`);
    patch.keytab = { bytes, principal };
  } else if (input.keytab === null) {
    patch.keytab = null;
  }
  if (input.kdcs !== undefined) patch.kdcs = input.kdcs && input.kdcs.length ? input.kdcs : null;

  const keytabPrincipal = patch.keytab === undefined ? current.keytabPrincipal : patch.keytab?.principal ?? null;
  const kdcs = patch.kdcs === undefined ? current.kdcs : patch.kdcs;
  const kerberos = current.auth === 'kerberos' || current.auth === 'negotiate';
  if (keytabPrincipal && !kerberos) throw invalid('keytab', `a keytab is only used by kerberos and negotiate connections, not ${current.auth}`);
  if (kdcs?.length && !kerberos) throw invalid('kdcs', `kdcs are only used by kerberos and negotiate connections, not ${current.auth}`);
  // The realm goes into the private krb5.conf the client writes.
  if (kdcs?.length && !/^[A-Za-z0-9._-]+$/.test(current.domain)) throw invalid('domain', 'with kdcs, domain must be a Kerberos realm (letters, digits, dots, hyphens)');
  if (keytabPrincipal && keytabPrincipal !== principal) {
    throw invalid('keytab', `the stored keytab holds ${keytabPrincipal}, not ${principal}: upload a keytab for ${principal} or remove it (keytab: null)`);
  }
  if (!current.hasPassword && !keytabPrincipal) throw invalid('password', 'a password is required (or, for kerberos and negotiate, a keytab)');
  return patch;
}
