import type { Insertable, Kysely, Updateable } from 'kysely';
import type { ConnectionsTable, Database } from '../db/schema.ts';
import { isUuid } from '../repositories/cas-repository.ts';

/** Connections to external systems (ADCS web enrollment servers). */
export function createConnectionsRepository(db: Kysely<Database>) {
  return {
    /** By UUID or by unique name. */
    find: (idOrName: string) =>
      db.selectFrom('connections').selectAll().where(isUuid(idOrName) ? 'id' : 'name', '=', idOrName).executeTakeFirst(),
    findMany: (ids: string[]) => (ids.length ? db.selectFrom('connections').selectAll().where('id', 'in', ids).execute() : Promise.resolve([])),
    list: () => db.selectFrom('connections').selectAll().orderBy('name').execute(),
    insert: (trx: Kysely<Database>, row: Insertable<ConnectionsTable>) => trx.insertInto('connections').values(row).returningAll().executeTakeFirstOrThrow(),
    update: (trx: Kysely<Database>, id: string, patch: Updateable<ConnectionsTable>) =>
      trx.updateTable('connections').set({ ...patch, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),
    remove: (trx: Kysely<Database>, id: string) => trx.deleteFrom('connections').where('id', '=', id).executeTakeFirst(),
    /** Names of the CAs that use a connection (a used connection cannot be deleted). */
    usedBy: async (id: string) =>
      (await db.selectFrom('ca_servers').innerJoin('cas', 'cas.id', 'ca_servers.ca_id').select('cas.name').where('ca_servers.connection_id', '=', id).execute()).map((r) => r.name),
  };
}

export type ConnectionsRepository = ReturnType<typeof createConnectionsRepository>;
