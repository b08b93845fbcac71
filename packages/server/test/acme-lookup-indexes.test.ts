import { sql, type Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrateToLatest } from '../src/db/database.ts';
import type { Database } from '../src/db/schema.ts';
import { ENGINES, freshDatabase, type Engine } from './helpers.ts';

/**
 * The ACME lookups of migration 0018 are served by an index, so they stay cheap as a directory
 * grows. With sequential scans priced out, the planner scans a table only when no index serves the
 * condition, so each plan names the index it uses.
 */
async function withDatabase(engine: Engine, run: (db: Kysely<Database>) => Promise<void>): Promise<void> {
  const fresh = await freshDatabase(engine);
  try {
    await migrateToLatest(fresh.handle.db);
    await fresh.handle.db.connection().execute(async (conn) => {
      await sql`set enable_seqscan = off`.execute(conn);
      await run(conn);
    });
  } finally {
    await fresh.drop();
  }
}

const plan = async (db: Kysely<Database>, query: ReturnType<typeof sql>) =>
  (await sql<{ 'QUERY PLAN': string }>`explain ${query}`.execute(db)).rows.map((r) => r['QUERY PLAN']).join('\n');

describe.each(ENGINES)('ACME lookup indexes (%s)', (engine) => {
  it('ok/the per-identifier rate-limit count and the valid-authorization lookup use acme_authorizations_identifier', async () => {
    await withDatabase(engine, async (db) => {
      expect(await plan(db, sql`select count(*) from acme_authorizations where identifier_value = ${'www.example.test'}`)).toMatch(/acme_authorizations_identifier/);
      expect(await plan(db, sql`select id from acme_authorizations where account_id = ${'00000000-0000-4000-8000-000000000001'}::uuid and identifier_value = ${'www.example.test'} and status = 'valid'`))
        .toMatch(/acme_authorizations_identifier/);
    });
  });

  it('ok/finding the order that holds a certificate uses acme_orders_certificate', async () => {
    await withDatabase(engine, async (db) => {
      expect(await plan(db, sql`select * from acme_orders where certificate_id = ${'00000000-0000-4000-8000-000000000002'}::uuid`)).toMatch(/acme_orders_certificate/);
    });
  });
});
