import type { Insertable, Kysely } from 'kysely';
import type { CasTable, Database } from '../db/schema.ts';
import { cachedRow, type CatalogCache } from './catalog-cache.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string): boolean => UUID.test(s);

/** With a cache, `find` is answered from memory while the catalogue is unchanged (catalog-cache.ts). */
export function createCasRepository(db: Kysely<Database>, cache?: CatalogCache) {
  return {
    /** By UUID or by unique name (SPEC: path segments accept either); `observedVersion` as in CatalogCache.get's `observed`. */
    find: (idOrName: string, observedVersion?: string) =>
      cachedRow(cache, `ca:${idOrName}`, () => db.selectFrom('cas').selectAll().where(isUuid(idOrName) ? 'id' : 'name', '=', idOrName).executeTakeFirst(), observedVersion),
    list: () => db.selectFrom('cas').selectAll().orderBy('created_at').execute(),
    insert: (trx: Kysely<Database>, row: Insertable<CasTable>) => trx.insertInto('cas').values(row).returningAll().executeTakeFirstOrThrow(),
    update: (trx: Kysely<Database>, id: string, patch: { status?: 'active' | 'disabled'; settings?: Record<string, unknown> }) =>
      trx.updateTable('cas').set({
        ...(patch.status ? { status: patch.status } : {}),
        ...(patch.settings ? { settings: JSON.stringify(patch.settings) } : {}),
        updated_at: new Date(),
      }).where('id', '=', id).returningAll().executeTakeFirst(),
  };
}

export type CasRepository = ReturnType<typeof createCasRepository>;
