import type { AdcsClientOptions } from '@certbridge/adcs-client';
import type { Sealer } from '../crypto/sealer.ts';
import type { ConnectionRow } from '../db/schema.ts';

/** The context binding a sealed connection password to its row (crypto/sealer.ts). */
export const connectionPasswordContext = (connectionId: string): string => `connection:${connectionId}`;
/** Its own context, so a sealed keytab cannot be passed off as the password or the other way round. */
export const connectionKeytabContext = (connectionId: string): string => `connection-keytab:${connectionId}`;

/** Said in every API answer and logged whenever TLS verification of an ADCS server is off. */
export const TLS_VERIFY_OFF_WARNING =
  'TLS certificate verification is OFF for this connection (rejectUnauthorized=false): anyone on the network path can impersonate the ADCS server and read the credentials. Add the CA PEM and turn it back on.';

/** AdcsClient options of a connection, with the password and keytab unsealed (they never leave the process). */
export function clientOptions(conn: ConnectionRow, sealer: Sealer): AdcsClientOptions {
  return {
    baseUrl: conn.url,
    username: conn.username,
    // A keytab-only connection has no password; kinit then uses the keytab (adcs-client kinit.ts).
    password: conn.password_sealed ? sealer.openText(conn.password_sealed, connectionPasswordContext(conn.id)) : '',
    domain: conn.domain,
    auth: conn.auth,
    rejectUnauthorized: conn.reject_unauthorized,
    timeoutMs: conn.timeout_ms,
    maxSockets: conn.max_sockets,
    ...(conn.ca_pem ? { ca: conn.ca_pem } : {}),
    ...(conn.keytab_sealed ? { keytab: new Uint8Array(sealer.open(conn.keytab_sealed, connectionKeytabContext(conn.id))) } : {}),
    ...(conn.kerberos_kdcs?.length ? { kdcs: conn.kerberos_kdcs } : {}),
  };
}

export const connectionWarnings = (conn: Pick<ConnectionRow, 'reject_unauthorized'>): string[] => (conn.reject_unauthorized ? [] : [TLS_VERIFY_OFF_WARNING]);

/** API representation: the password and the keytab are never part of it, only whether they are set (and the keytab's principal). */
export const connectionDto = (c: ConnectionRow) => ({
  id: c.id, name: c.name, type: c.type, url: c.url, domain: c.domain, username: c.username, passwordSet: c.password_sealed !== null, auth: c.auth,
  keytabSet: c.keytab_sealed !== null, keytabPrincipal: c.keytab_principal, kdcs: c.kerberos_kdcs ?? [],
  caPem: c.ca_pem, rejectUnauthorized: c.reject_unauthorized, timeoutMs: c.timeout_ms, maxSockets: c.max_sockets,
  warnings: connectionWarnings(c), createdAt: c.created_at, updatedAt: c.updated_at,
});
