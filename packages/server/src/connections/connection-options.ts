import type { AdcsClientOptions } from '@certbridge/adcs-client';
import type { Sealer } from '../crypto/sealer.ts';
import type { ConnectionRow } from '../db/schema.ts';

/** The context binding a sealed connection password to its row (crypto/sealer.ts). */
export const connectionPasswordContext = (connectionId: string): string => `connection:${connectionId}`;

/** Said in every API answer and logged whenever TLS verification of an ADCS server is off. */
export const TLS_VERIFY_OFF_WARNING =
  'TLS certificate verification is OFF for this connection (rejectUnauthorized=false): anyone on the network path can impersonate the ADCS server and read the credentials. Add the CA PEM and turn it back on.';

/** AdcsClient options of a connection, with the password unsealed (never leaves the process). */
export function clientOptions(conn: ConnectionRow, sealer: Sealer): AdcsClientOptions {
  return {
    baseUrl: conn.url,
    username: conn.username,
    password: sealer.openText(conn.password_sealed, connectionPasswordContext(conn.id)),
    domain: conn.domain,
    auth: conn.auth,
    rejectUnauthorized: conn.reject_unauthorized,
    timeoutMs: conn.timeout_ms,
    maxSockets: conn.max_sockets,
    ...(conn.ca_pem ? { ca: conn.ca_pem } : {}),
  };
}

export const connectionWarnings = (conn: Pick<ConnectionRow, 'reject_unauthorized'>): string[] => (conn.reject_unauthorized ? [] : [TLS_VERIFY_OFF_WARNING]);

/** API representation: the password is never part of it. */
export const connectionDto = (c: ConnectionRow) => ({
  id: c.id, name: c.name, type: c.type, url: c.url, domain: c.domain, username: c.username, passwordSet: true, auth: c.auth,
  caPem: c.ca_pem, rejectUnauthorized: c.reject_unauthorized, timeoutMs: c.timeout_ms, maxSockets: c.max_sockets,
  warnings: connectionWarnings(c), createdAt: c.created_at, updatedAt: c.updated_at,
});
