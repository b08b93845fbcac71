import type { CatalogCache } from '../repositories/catalog-cache.ts';
import { sql, type Insertable, type Kysely, type Updateable } from 'kysely';
import type { Database } from '../db/schema.ts';
import { isUuid } from '../repositories/cas-repository.ts';
import { syncDb, type SyncCertificatesTable, type SyncItemRow, type SyncRow, type SyncsTable } from './sync-tables.ts';

/** What the reconciler needs to know of a certificate before it decides to load the whole row. */
export interface Candidate {
  id: string;
  lineageId: string;
  subject: string;
  serialHex: string;
  status: 'active' | 'revoked';
  notAfter: Date;
  profileSlug: string | null;
  hasKey: boolean;
  createdAt: Date;
}

type ItemPatch = Omit<Insertable<SyncCertificatesTable>, 'sync_id' | 'certificate_id'>;

/** Depth bound of the renewal lineage walk (a cycle cannot exist, but a bound costs nothing). */
const MAX_LINEAGE = 1000;

/** Syncs, their per-lineage vault names and per-certificate status (migration 0011). */
export function createSyncStore(base: Kysely<Database>, cache?: CatalogCache) {
  const db = syncDb(base);
  const scoped = (row: { application_ids: string[]; profile_ids: string[] }) => {
    const apps = row.application_ids.length ? sql`c.application_id in (${sql.join(row.application_ids)})` : sql`false`;
    const profiles = row.profile_ids.length ? sql`c.profile_id in (${sql.join(row.profile_ids)})` : sql`false`;
    return sql`(${apps} or ${profiles})`;
  };

  return {
    find: (idOrName: string) => db.selectFrom('syncs').selectAll().where(isUuid(idOrName) ? 'id' : 'name', '=', idOrName).executeTakeFirst(),
    list: () => db.selectFrom('syncs').selectAll().orderBy('name').execute(),
    listEnabled: () => db.selectFrom('syncs').selectAll().where('enabled', '=', true).orderBy('name').execute(),
    insert: (trx: Kysely<Database>, row: Insertable<SyncsTable>) => syncDb(trx).insertInto('syncs').values(row).returningAll().executeTakeFirstOrThrow(),
    update: (trx: Kysely<Database>, id: string, patch: Updateable<SyncsTable>) =>
      syncDb(trx).updateTable('syncs').set({ ...patch, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),
    remove: (trx: Kysely<Database>, id: string) => syncDb(trx).deleteFrom('syncs').where('id', '=', id).execute(),
    recordRun: (id: string, at: Date, error: string | null) => db.updateTable('syncs').set({ last_run_at: at, last_run_error: error }).where('id', '=', id).execute(),

    /**
     * Enabled syncs whose applications or profiles include this certificate's; `observed` as in
     * CatalogCache.get (a counter read after the asking request began).
     */
    covering: (applicationId: string | null, profileId: string | null, observed?: string) => {
      const load = () => db.selectFrom('syncs').selectAll().where('enabled', '=', true)
        .where(sql<boolean>`(application_ids @> ${JSON.stringify(applicationId ? [applicationId] : [])}::jsonb and ${applicationId !== null})
          or (profile_ids @> ${JSON.stringify(profileId ? [profileId] : [])}::jsonb and ${profileId !== null})`)
        .orderBy('name').execute();
      // Asked on every issuance and revocation; migration 0017 makes sync edits bump the catalogue version.
      return cache ? cache.get(`syncs-covering:${applicationId}:${profileId}`, load, observed).then((rows) => rows.map((r) => ({ ...r }))) : load();
    },

    /**
     * The certificates a sync covers, each with the first certificate of its renewal lineage
     * (walking `renewed_from_id` back, also through certificates outside the sync's scope).
     * `lineageOf` narrows the answer to one lineage (event-driven updates).
     */
    async candidates(sync: SyncRow, lineageOf?: string): Promise<Candidate[]> {
      const { rows } = await sql<{ id: string; lineage_id: string; subject: string; serial_hex: string; status: 'active' | 'revoked'; not_after: Date; slug: string | null; has_key: boolean; created_at: Date }>`
        with recursive up(start_id, id, parent, depth) as (
          select c.id, c.id, c.renewed_from_id, 0 from certificates c where ${scoped(sync)}
          union all
          select up.start_id, p.id, p.renewed_from_id, up.depth + 1 from certificates p join up on p.id = up.parent where up.depth < ${MAX_LINEAGE}
        ), roots as (
          -- the oldest reachable ancestor (a predecessor may have been removed from the inventory)
          select distinct on (start_id) start_id, id as lineage_id from up order by start_id, depth desc
        )
        select c.id, r.lineage_id, c.subject, c.serial_hex, c.status, c.not_after, p.slug, c.private_key_sealed is not null as has_key, c.created_at
        from certificates c join roots r on r.start_id = c.id left join profiles p on p.id = c.profile_id
        order by c.created_at, c.id`.execute(db);
      const all = rows.map((r) => ({
        id: r.id, lineageId: r.lineage_id, subject: r.subject, serialHex: r.serial_hex, status: r.status, notAfter: new Date(r.not_after),
        profileSlug: r.slug, hasKey: r.has_key, createdAt: new Date(r.created_at),
      }));
      if (!lineageOf) return all;
      const lineage = all.find((c) => c.id === lineageOf)?.lineageId;
      return all.filter((c) => c.lineageId === lineage);
    },

    certificate: (id: string) => db.selectFrom('certificates').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),

    items: (syncId: string) => db.selectFrom('sync_certificates').selectAll().where('sync_id', '=', syncId).execute(),
    /** Every certificate in the sync's scope or with a status in it; those no run has reached yet have no status row. */
    itemsWithCertificates: (sync: SyncRow) => db.selectFrom('certificates as c')
      .leftJoin('sync_certificates as i', (j) => j.onRef('i.certificate_id', '=', 'c.id').on('i.sync_id', '=', sync.id))
      .select(['c.id as certificate_id', 'c.subject', 'c.serial_hex', 'c.status as certificate_status', 'c.not_after', 'i.state', 'i.reason', 'i.vault_name', 'i.vault_version', 'i.last_error', 'i.attempts', 'i.last_synced_at', 'i.updated_at'])
      .where((eb) => eb.or([
        ...(sync.application_ids.length ? [eb('c.application_id', 'in', sync.application_ids)] : []),
        ...(sync.profile_ids.length ? [eb('c.profile_id', 'in', sync.profile_ids)] : []),
        eb('i.sync_id', 'is not', null),
      ]))
      .orderBy('c.created_at').orderBy('c.id').execute(),

    async saveItem(trx: Kysely<Database>, syncId: string, certificateId: string, patch: ItemPatch): Promise<SyncItemRow> {
      const now = new Date();
      return syncDb(trx).insertInto('sync_certificates').values({ sync_id: syncId, certificate_id: certificateId, ...patch, updated_at: now })
        .onConflict((oc) => oc.columns(['sync_id', 'certificate_id']).doUpdateSet({ ...patch, updated_at: now }))
        .returningAll().executeTakeFirstOrThrow();
    },

    /** The lineage's vault name within the sync: the one given before, or `wanted` (else `fallback` when taken). */
    async claimName(syncId: string, lineageId: string, wanted: string, fallback: string): Promise<string> {
      for (const name of [wanted, fallback]) {
        const existing = await db.selectFrom('sync_names').select('vault_name').where('sync_id', '=', syncId).where('lineage_id', '=', lineageId).executeTakeFirst();
        if (existing) return existing.vault_name;
        const inserted = await db.insertInto('sync_names').values({ sync_id: syncId, lineage_id: lineageId, vault_name: name }).onConflict((oc) => oc.doNothing()).returning('vault_name').executeTakeFirst();
        if (inserted) return inserted.vault_name;
      }
      throw new Error(`no free vault name for lineage ${lineageId} in sync ${syncId}`);
    },
  };
}

export type SyncStore = ReturnType<typeof createSyncStore>;
