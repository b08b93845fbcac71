import type { Kysely } from 'kysely';
import type { AdcsOptionsWire } from '@certbridge/connector/protocol';
import { clientOptions } from '../connections/connection-options.ts';
import type { Sealer } from '../crypto/sealer.ts';
import type { Database } from '../db/schema.ts';

/**
 * The ADCS client options a job carries to the connector: the connection's password (and keytab) is unsealed
 * only by the instance that sends the job, travels inside the mutually authenticated TLS socket,
 * and is never stored in the jobs table.
 */
export type ConnectorAdcsOptions = (connectionId: string) => Promise<AdcsOptionsWire | undefined>;

export function createConnectorAdcsOptions(db: Kysely<Database>, sealer: Sealer): ConnectorAdcsOptions {
  return async (connectionId) => {
    const conn = await db.selectFrom('connections').selectAll().where('id', '=', connectionId).executeTakeFirst();
    if (!conn) return undefined;
    const o = clientOptions(conn, sealer);
    return {
      baseUrl: o.baseUrl, username: o.username, password: o.password, domain: o.domain, auth: o.auth,
      ...(o.ca ? { ca: o.ca } : {}), ...(o.rejectUnauthorized !== undefined ? { rejectUnauthorized: o.rejectUnauthorized } : {}),
      ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}), ...(o.maxSockets ? { maxSockets: o.maxSockets } : {}),
      ...(o.keytab instanceof Uint8Array ? { keytab: Buffer.from(o.keytab).toString('base64') } : {}), ...(o.kdcs?.length ? { kdcs: [...o.kdcs] } : {}),
    };
  };
}
