import { sql, type Kysely, type RawBuilder, type Updateable } from 'kysely';
import { asyncCommitColumn } from '../db/async-commit.ts';
import type { Database, NewOrder, OrderRow, OrdersTable } from '../db/schema.ts';
import { isUuid } from './cas-repository.ts';

/** `%`, `_` and `\` match themselves in a LIKE pattern built from user input. */
const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export function createOrdersRepository(db: Kysely<Database>) {
  return {
    insert: (row: NewOrder) => db.insertInto('orders').values(row).returningAll().executeTakeFirstOrThrow(),
    /**
     * The order of a request about to go to a remote CA (ADCS, connector), with `alongside`
     * (CaBackend's RecordOrder) in the same statement; also the rows that returned.
     *
     * Its commit does not wait for the WAL flush (synchronous_commit off for this transaction
     * only, set from RETURNING because a statement outside a transaction block has no other place
     * for SET LOCAL; on the pool only: inside an explicit transaction it would relax that whole
     * transaction's commit). The row is committed and visible to every instance at once; only a
     * crash of PostgreSQL itself in the next fraction of a second could lose it, and then the
     * request fails anyway (the certificate's foreign key refuses the settling write). Whatever
     * settles the order afterwards (issued, pending, denied, failed) commits synchronously, and
     * PostgreSQL flushes the WAL in order, so nobody is ever told of an order whose record is not
     * on disk. A flush cost 0.3 ms on a quiet 2-core machine and up to about 1.5 ms under the
     * ADCS bench's load (bench/RESULTS.md, "Midday").
     */
    recordBeforeRemoteCa: async (row: NewOrder, alongside?: RawBuilder<unknown>): Promise<{ order: OrderRow; alongsideRows: number }> => {
      const query = alongside ? db.with('alongside', () => sql`(${alongside})`).insertInto('orders') : db.insertInto('orders');
      const { alongside_rows: alongsideRows, commit_mode: _commitMode, ...order } = await query.values(row).returningAll()
        .returning((alongside ? sql<number>`(select count(*) from alongside)::int` : sql<number>`0`).as('alongside_rows'))
        .returning(asyncCommitColumn)
        .executeTakeFirstOrThrow();
      return { order, alongsideRows };
    },
    find: (id: string) => db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst(),
    /** Recording the server that took a request also records that server's ADCS domain. */
    update: (trx: Kysely<Database>, id: string, patch: Updateable<OrdersTable>) => {
      const server = typeof patch.ca_server === 'string' ? patch.ca_server : null;
      return trx.updateTable('orders').set((eb) => ({
        ...patch, updated_at: new Date(),
        ...(server ? { adcs_domain: eb.selectFrom('connections').select('domain').where(sql<string>`id::text`, '=', server) } : {}),
      })).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    },
    /**
     * Keyset page, newest first, limited to the given applications (null = all). `caId` and
     * `requesterId` also take a CA name and a user name (what people type).
     */
    list: (opts: { applicationIds: string[] | null; status?: string; limit: number; after?: { createdAt: Date; id: string }; caId?: string; server?: string; domain?: string; commonName?: string; template?: string; requesterId?: string }) => {
      let q = db.selectFrom('orders').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit);
      if (opts.applicationIds) q = q.where('application_id', 'in', opts.applicationIds.length ? opts.applicationIds : ['00000000-0000-0000-0000-000000000000']);
      if (opts.status) q = q.where('status', '=', opts.status as OrdersTable['status']);
      if (opts.caId) q = isUuid(opts.caId) ? q.where('ca_id', '=', opts.caId) : q.where('ca_id', 'in', db.selectFrom('cas').select('id').where('name', '=', opts.caId));
      // A server is named by its connection id or name (the ADCS server as operators know it).
      if (opts.server) q = isUuid(opts.server) ? q.where('ca_server', '=', opts.server) : q.where('ca_server', 'in', db.selectFrom('connections').select(sql<string>`id::text`.as('id')).where('name', '=', opts.server));
      if (opts.domain) q = q.where(sql<string>`lower(adcs_domain)`, '=', opts.domain.toLowerCase());
      if (opts.commonName) q = q.where(sql<string>`lower(common_name)`, 'like', `%${escapeLike(opts.commonName.toLowerCase())}%`);
      if (opts.template) q = q.where('template', '=', opts.template);
      if (opts.requesterId) q = isUuid(opts.requesterId) ? q.where('requester_id', '=', opts.requesterId) : q.where('requester_id', 'in', db.selectFrom('users').select('id').where('username', '=', opts.requesterId));
      if (opts.after) q = q.where(sql<boolean>`(created_at, id) < (${opts.after.createdAt}, ${opts.after.id}::uuid)`);
      return q.execute();
    },
    /** Pending orders that never reached the CA (the process died in between): older than `before`. */
    stranded: (before: Date) =>
      db.selectFrom('orders').selectAll().where('status', '=', 'pending').where('ca_request_id', 'is', null).where('created_at', '<', before).limit(500).execute(),
  };
}

export type OrdersRepository = ReturnType<typeof createOrdersRepository>;
