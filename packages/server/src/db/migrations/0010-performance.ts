import { sql, type Kysely } from 'kysely';

/**
 * Issuance speed (issue 2 "Speed"): the catalogue version counter behind repositories/catalog-cache.ts.
 * A statement-level trigger on every table the issuance path reads from the catalogue increments
 * `cache_versions.catalog` inside the changing transaction, so every server instance sees the new
 * value exactly when it sees the change, and drops its cached rows. Catalogue changes are rare
 * (an administrator edits a profile); the counter row serialises only those writers.
 */
const CATALOG_TABLES = ['applications', 'profiles', 'policies', 'cas', 'application_profiles', 'application_members'];

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table cache_versions (name text primary key, version bigint not null)`.execute(db);
  await sql`insert into cache_versions (name, version) values ('catalog', 1)`.execute(db);
  await sql`
    create function certbridge_catalog_changed() returns trigger language plpgsql as $$
    begin
      update cache_versions set version = version + 1 where name = 'catalog';
      return null;
    end $$`.execute(db);
  for (const table of CATALOG_TABLES) {
    await sql`create trigger ${sql.raw(`${table}_catalog_version`)} after insert or update or delete or truncate on ${sql.table(table)}
      for each statement execute function certbridge_catalog_changed()`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of CATALOG_TABLES) await sql`drop trigger if exists ${sql.raw(`${table}_catalog_version`)} on ${sql.table(table)}`.execute(db);
  await sql`drop function if exists certbridge_catalog_changed()`.execute(db);
  await sql`drop table if exists cache_versions`.execute(db);
}
