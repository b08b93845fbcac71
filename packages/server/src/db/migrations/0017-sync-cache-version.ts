import { sql, type Kysely } from 'kysely';

/**
 * Every issued or revoked certificate asks which enabled Key Vault syncs cover it (syncs-module.ts).
 * That answer changes only when an administrator edits a sync, so it is read through the catalogue
 * cache (repositories/catalog-cache.ts): edits of the columns it depends on bump the same version
 * counter as the catalogue tables (migration 0010). A sync's run bookkeeping (last_run_at,
 * last_run_error) does not, or every run would empty the cache.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create trigger syncs_catalog_version after insert or delete or truncate on syncs
    for each statement execute function certbridge_catalog_changed()`.execute(db);
  await sql`create trigger syncs_scope_catalog_version after update of enabled, application_ids, profile_ids on syncs
    for each statement execute function certbridge_catalog_changed()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger if exists syncs_scope_catalog_version on syncs`.execute(db);
  await sql`drop trigger if exists syncs_catalog_version on syncs`.execute(db);
}
