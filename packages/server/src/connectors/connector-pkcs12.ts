import type { Kysely } from 'kysely';
import { verifyPassword } from '../auth/passwords.ts';
import type { Clock } from '../clock.ts';
import type { Sealer } from '../crypto/sealer.ts';
import type { Database } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { connectorDb } from './connectors-tables.ts';

/** How long a connector-made PKCS#12 waits for its requester before it is deleted. */
export const PKCS12_RETENTION_MS = 7 * 86_400_000;
/** The emptied entry is kept this much longer, so a late download is told what happened. */
const TOMBSTONE_MS = 90 * 86_400_000;
const context = (orderId: string) => `connector-pkcs12:${orderId}`;

/**
 * PKCS#12 files a connector generated (issue 7, "keys never rest on the server"): the key never
 * exists here in clear; the file, already encrypted by the connector under the requester's
 * password, is sealed once more under the master key, handed out once, then erased. Entries the
 * requester never fetched are erased when the retention ends.
 */
export function createConnectorPkcs12Store(deps: { db: Kysely<Database>; sealer: Sealer; clock: Clock }) {
  const cdb = connectorDb(deps.db);
  return {
    /** `passwordHash`: scrypt hash of the password the file is encrypted under, to check downloads. */
    async store(orderId: string, pkcs12Base64: string, passwordHash: string): Promise<void> {
      const sealed = deps.sealer.seal(Buffer.from(pkcs12Base64, 'base64'), context(orderId));
      const expires = new Date(deps.clock.now().getTime() + PKCS12_RETENTION_MS);
      await cdb.insertInto('connector_pkcs12').values({ order_id: orderId, sealed, password_hash: passwordHash, expires_at: expires })
        .onConflict((oc) => oc.column('order_id').doUpdateSet({ sealed, password_hash: passwordHash, expires_at: expires })).execute();
    },
    /** Whether the connector made a PKCS#12 for this order (even one already handed out). */
    has: async (orderId: string): Promise<boolean> =>
      Boolean(await cdb.selectFrom('connector_pkcs12').select('order_id').where('order_id', '=', orderId).executeTakeFirst()),
    /**
     * The PKCS#12 of an order, if `password` opens it (the one the requester chose at issuance);
     * a wrong password leaves it in place. Erased on success: it is handed out once.
     */
    async take(orderId: string, password: string): Promise<Buffer> {
      const row = await cdb.selectFrom('connector_pkcs12').selectAll().where('order_id', '=', orderId).where('expires_at', '>', deps.clock.now()).where('sealed', '!=', '').executeTakeFirst();
      if (!row) throw new AppError('NOT_FOUND', 'the PKCS#12 the connector made for this certificate was already downloaded or its retention ended');
      if (!(await verifyPassword(password, row.password_hash))) {
        throw new AppError('VALIDATION_FAILED', 'this password does not open the PKCS#12: use the password given when the certificate was requested');
      }
      const der = deps.sealer.open(row.sealed, context(orderId));
      const erased = await cdb.updateTable('connector_pkcs12').set({ sealed: '', password_hash: '' }).where('order_id', '=', orderId).where('sealed', '=', row.sealed).returning('order_id').executeTakeFirst();
      if (!erased) throw new AppError('NOT_FOUND', 'the PKCS#12 was downloaded meanwhile');
      return der;
    },
    /** Erases files past retention; returns how many. */
    async purgeExpired(): Promise<number> {
      const now = deps.clock.now();
      await cdb.deleteFrom('connector_pkcs12').where('expires_at', '<', new Date(now.getTime() - TOMBSTONE_MS)).execute();
      return (await cdb.updateTable('connector_pkcs12').set({ sealed: '', password_hash: '' }).where('expires_at', '<=', now).where('sealed', '!=', '').returning('order_id').execute()).length;
    },
  };
}

export type ConnectorPkcs12Store = ReturnType<typeof createConnectorPkcs12Store>;
