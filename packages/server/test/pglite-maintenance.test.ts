import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../src/db/database.ts';
import { maintainOnce, maintenanceFor, startPgliteMaintenance } from '../src/db/pglite-maintenance.ts';
import type { Database } from '../src/db/schema.ts';
import { freshDatabase } from './helpers.ts';

/**
 * The embedded engine has no autovacuum: Certbridge's maintenance does its work on its thresholds.
 * Read from the table sizes and PostgreSQL's own vacuum/analyse records, not from timings.
 */
const counters = { schema: 'public', name: 't', reltuples: 1000, dead: 0, modified: 0, inserted: 0, xid_age: 0 };

describe('autovacuum thresholds', () => {
  it.each([
    ['ok/nothing to do under the thresholds', {}, { vacuum: false, freeze: false, analyze: false }],
    ['ok/dead rows over 50 + 20% of the table: vacuum', { dead: 251 }, { vacuum: true, freeze: false, analyze: false }],
    ['ok/dead rows at the threshold: not yet', { dead: 250 }, { vacuum: false, freeze: false, analyze: false }],
    ['ok/inserts over 1,000 + 20%: vacuum (visibility map, freezing)', { inserted: 1201 }, { vacuum: true, freeze: false, analyze: false }],
    ['ok/changes over 50 + 10%: analyse', { modified: 151 }, { vacuum: false, freeze: false, analyze: true }],
    ['ok/a never analysed table (reltuples -1) counts as empty', { reltuples: -1, modified: 51 }, { vacuum: false, freeze: false, analyze: true }],
    ['ok/old transaction ids: vacuum with freeze whatever the churn', { xid_age: 150_000_001 }, { vacuum: true, freeze: true, analyze: false }],
  ])('%s', (_name, change, expected) => {
    expect(maintenanceFor({ ...counters, ...change })).toEqual(expected);
  });
});

describe('embedded database maintenance (pglite)', () => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const fresh = await freshDatabase('pglite');
    db = fresh.handle.db;
    drop = fresh.drop;
    await migrateToLatest(db);
    await maintainOnce(db); // what migrations and seeding left behind
  });
  afterAll(async () => {
    await drop?.();
  });

  const heapBytes = async (table: string) => Number((await sql<{ n: string }>`select pg_relation_size(${table}::regclass)::text as n`.execute(db)).rows[0]!.n);
  const churnNonces = async (n: number) => {
    await sql`insert into acme_nonces (nonce, expires_at) select 'n-' || i || '-' || md5(random()::text), now() + interval '1 hour' from generate_series(1, ${n}::int) i`.execute(db);
    await sql`delete from acme_nonces`.execute(db);
  };

  it('ok/a table whose rows were deleted is vacuumed and its space given back; a quiet table is left alone', async () => {
    await churnNonces(20_000);
    await sql`insert into login_failures (throttle_key, failed_at) values ('k', now())`.execute(db);
    const grown = await heapBytes('acme_nonces');
    expect(grown).toBeGreaterThan(500_000);
    const pass = await maintainOnce(db);
    expect(pass.vacuumed).toContain('public.acme_nonces');
    expect([...pass.vacuumed, ...pass.analyzed]).not.toContain('public.login_failures');
    expect(await heapBytes('acme_nonces')).toBe(0);
    // Nothing changed since: the next pass does nothing.
    expect(await maintainOnce(db)).toEqual({ vacuumed: [], analyzed: [] });
  });

  it('ok/a table that grew is analysed: the planner learns its size', async () => {
    await sql`insert into login_failures (throttle_key, failed_at) select 'key-' || i, now() from generate_series(1, 2000) i`.execute(db);
    const pass = await maintainOnce(db);
    expect([...pass.vacuumed, ...pass.analyzed]).toContain('public.login_failures');
    const { rows } = await sql<{ reltuples: number; analysed: boolean }>`
      select c.reltuples::float8 as reltuples, s.last_analyze is not null as analysed from pg_class c join pg_stat_user_tables s on s.relid = c.oid where c.relname = 'login_failures'`.execute(db);
    expect(rows[0]).toEqual({ reltuples: 2001, analysed: true });
  });

  it('ok/the timer runs passes until stopped, and stop waits for the pass under way', async () => {
    const logged: unknown[] = [];
    const maintenance = startPgliteMaintenance(db, { info: (obj: unknown) => logged.push(obj), warn: (obj: unknown) => logged.push(obj) }, 20);
    await churnNonces(5_000);
    for (let i = 0; i < 200 && logged.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    await maintenance.stop();
    expect(logged[0]).toMatchObject({ vacuumed: expect.arrayContaining(['public.acme_nonces']) });
    expect(await heapBytes('acme_nonces')).toBe(0);
    const after = logged.length;
    await churnNonces(5_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(logged.length).toBe(after);
  });
});
