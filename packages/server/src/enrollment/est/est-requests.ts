import { createHash, randomUUID } from 'node:crypto';
import type { ColumnType, Kysely, Selectable } from 'kysely';
import type { Database, OrderRow } from '../../db/schema.ts';

export type EstOperation = 'simpleenroll' | 'simplereenroll' | 'serverkeygen';

/** An EST request and the order it opened (migration 0009), so the client's retry finds it. */
export type EstRequestsTable = {
  id: string;
  settings_id: string;
  operation: EstOperation;
  /** SHA-256 hex of the PKCS#10 the client sent (for serverkeygen: the CSR naming the subject, not the server's). */
  csr_sha256: string;
  /** Who sent it: `basic:<username>`, `cert:<sha256 of the TLS client certificate>`, or both joined by a space. */
  client_identity: string;
  order_id: string;
  /** serverkeygen: when the generated key went out (it goes out once). */
  key_delivered_at: ColumnType<Date | null, Date | null | undefined, Date>;
  created_at: ColumnType<Date, Date | undefined, never>;
};
type Tables = { est_requests: EstRequestsTable };
export type EstRequestRow = Selectable<EstRequestsTable>;

export const csrSha256 = (der: Uint8Array): string => createHash('sha256').update(der).digest('hex');

/** SQL for EST retries (RFC 7030 section 4.2.3): match by CSR and client identity, newest open request first. */
export function createEstRequests(base: Kysely<Database>) {
  const db = base.withTables<Tables>();
  return {
    /**
     * The newest request of this endpoint, operation, PKCS#10 and client whose order is still
     * waiting, was decided by the CA (issued and, for serverkeygen, not yet handed out; or denied).
     */
    async findOpen(settingsId: string, operation: EstOperation, csrDer: Uint8Array, identity: string): Promise<{ request: EstRequestRow; order: OrderRow } | undefined> {
      const row = await db.selectFrom('est_requests').innerJoin('orders', 'orders.id', 'est_requests.order_id')
        .select(['est_requests.id as request_id']).selectAll('orders')
        .where('est_requests.settings_id', '=', settingsId).where('est_requests.operation', '=', operation)
        .where('est_requests.csr_sha256', '=', csrSha256(csrDer)).where('est_requests.client_identity', '=', identity)
        .where('est_requests.key_delivered_at', 'is', null).where('orders.status', 'in', ['pending', 'issued', 'denied'])
        .orderBy('est_requests.created_at', 'desc').limit(1).executeTakeFirst();
      if (!row) return undefined;
      const { request_id: requestId, ...order } = row;
      const request = await db.selectFrom('est_requests').selectAll().where('id', '=', requestId).executeTakeFirstOrThrow();
      return { request, order };
    },

    record: (row: { settings_id: string; operation: EstOperation; csr_der: Uint8Array; client_identity: string; order_id: string; key_delivered_at?: Date }) =>
      db.insertInto('est_requests').values({
        id: randomUUID(), settings_id: row.settings_id, operation: row.operation, csr_sha256: csrSha256(row.csr_der), client_identity: row.client_identity,
        order_id: row.order_id, key_delivered_at: row.key_delivered_at ?? null,
      }).execute(),

    /** Marks a server-generated key handed out; true only for the one call that did it (concurrent retries race here). */
    async markKeyDelivered(id: string, now: Date): Promise<boolean> {
      const res = await db.updateTable('est_requests').set({ key_delivered_at: now }).where('id', '=', id).where('key_delivered_at', 'is', null).executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
  };
}

export type EstRequests = ReturnType<typeof createEstRequests>;
