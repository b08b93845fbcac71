import { sql, type Kysely, type Updateable } from 'kysely';
import type { Database, NewOrder, OrdersTable } from '../db/schema.ts';

export function createOrdersRepository(db: Kysely<Database>) {
  return {
    insert: (row: NewOrder) => db.insertInto('orders').values(row).returningAll().executeTakeFirstOrThrow(),
    find: (id: string) => db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst(),
    update: (trx: Kysely<Database>, id: string, patch: Updateable<OrdersTable>) =>
      trx.updateTable('orders').set({ ...patch, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),
    /** Keyset page, newest first, limited to the given applications (null = all). */
    list: (opts: { applicationIds: string[] | null; status?: string; limit: number; after?: { createdAt: Date; id: string }; caId?: string; server?: string; template?: string; requesterId?: string }) => {
      let q = db.selectFrom('orders').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit);
      if (opts.applicationIds) q = q.where('application_id', 'in', opts.applicationIds.length ? opts.applicationIds : ['00000000-0000-0000-0000-000000000000']);
      if (opts.status) q = q.where('status', '=', opts.status as OrdersTable['status']);
      if (opts.caId) q = q.where('ca_id', '=', opts.caId);
      if (opts.server) q = q.where('ca_server', '=', opts.server);
      if (opts.template) q = q.where('template', '=', opts.template);
      if (opts.requesterId) q = q.where('requester_id', '=', opts.requesterId);
      if (opts.after) q = q.where(sql<boolean>`(created_at, id) < (${opts.after.createdAt}, ${opts.after.id}::uuid)`);
      return q.execute();
    },
    /** Pending orders that never reached the CA (the process died in between): older than `before`. */
    stranded: (before: Date) =>
      db.selectFrom('orders').selectAll().where('status', '=', 'pending').where('ca_request_id', 'is', null).where('created_at', '<', before).limit(500).execute(),
  };
}

export type OrdersRepository = ReturnType<typeof createOrdersRepository>;
