import { sql, type Kysely } from 'kysely';

/**
 * Inventory search (`GET /certificates?q=`) is a substring match on `search_text` (names, SANs).
 * Without an index a search matching few rows walks the whole table (about 0.5 s at 1,000,000
 * certificates, bench/inventory.ts); a trigram GIN index answers `LIKE '%…%'` for patterns of three
 * characters or more. pg_trgm ships with PostgreSQL (a trusted extension: the database owner may
 * create it) and with PGlite (loaded in db/database.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create extension if not exists pg_trgm`.execute(db);
  await sql`create index certificates_search_trgm on certificates using gin (search_text gin_trgm_ops)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists certificates_search_trgm`.execute(db);
}
