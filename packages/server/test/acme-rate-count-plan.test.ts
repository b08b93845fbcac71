import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSERT_ORDER_WITHIN_LIMITS } from '../src/enrollment/acme/new-order-statement.ts';
import { createTestEnv, ENGINES, type TestEnv } from './helpers.ts';

/**
 * newOrder's per-identifier rate count must not read the directory's whole window of orders: its
 * generic plan (the one PostgreSQL keeps per connection) starts from the identifier. The tables are
 * as a busy directory has them between two autovacuum analyses (PGlite runs none at all):
 * thousands of orders the statistics do not know about yet. Read from the plan's own buffer counts, which do not depend on the
 * machine's speed. Joined through the order's account, the count read every order of the window
 * (about 5,000 buffers here) and this test fails.
 */
const ORDERS = 5_000;
const ACCOUNTS = 16;
const DAY_MS = 86_400_000;

interface PlanNode { 'Node Type': string; 'Relation Name'?: string; 'Shared Hit Blocks': number; 'Shared Read Blocks': number; 'Actual Rows': number; Plans?: PlanNode[] }
const walk = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(walk)];

describe.each(ENGINES)('newOrder rate count (%s)', (engine) => {
  let env: TestEnv;
  let profileId: string;
  let accountId: string;

  beforeAll(async () => {
    env = await createTestEnv(engine);
    const db = env.handle.db;
    profileId = (await db.selectFrom('profiles').select(['id']).where('slug', '=', 'default-tls').executeTakeFirstOrThrow()).id;
    const applicationId = (await db.selectFrom('applications').select(['id']).where('name', '=', 'default').executeTakeFirstOrThrow()).id;
    await sql`insert into acme_accounts (id, profile_id, application_id, thumbprint, jwk, status)
      select gen_random_uuid(), ${profileId}::uuid, ${applicationId}::uuid, 'thumbprint-' || i, '{}'::jsonb, 'valid' from generate_series(1, ${ACCOUNTS}::int) i`.execute(db);
    // The last hour's traffic: one name per order, spread over the accounts.
    await sql`with accounts as (select id, row_number() over (order by id) as n from acme_accounts),
      new_orders as (
        insert into acme_orders (id, account_id, status, identifiers, expires_at, created_at)
        select gen_random_uuid(), accounts.id, 'valid', '[]'::jsonb, now() + interval '7 days', now() - (i % 3600) * interval '1 second'
        from generate_series(1, ${ORDERS}::int) i join accounts on accounts.n = 1 + i % ${ACCOUNTS}::int
        returning id, account_id)
      insert into acme_authorizations (id, order_id, account_id, identifier_type, identifier_value, status, expires_at)
      select gen_random_uuid(), id, account_id, 'dns', 'host-' || row_number() over () || '.example.test', 'valid', now() + interval '7 days' from new_orders`.execute(db);
    accountId = (await sql<{ id: string }>`select id from acme_accounts limit 1`.execute(db)).rows[0]!.id;
  });

  afterAll(async () => {
    await env?.close();
  });

  it('ok/the generic plan counts one name without reading the window of orders', async () => {
    const since = new Date(Date.now() - 3 * 3_600_000).toISOString();
    const expires = new Date(Date.now() + DAY_MS).toISOString();
    const now = new Date().toISOString();
    const orderId = randomUUID();
    const authorizationId = randomUUID();
    // One connection: the prepared statement and the plan setting are the session's. The probe's
    // inserts are rolled back.
    const plan = await env.handle.db.connection().execute(async (conn) => {
      await sql.raw(`prepare rate_count_probe (uuid, timestamptz, uuid, text[], int, int, uuid, text, timestamptz, timestamptz,
        uuid[], text[], text[], boolean[], uuid[], uuid[], text[], text[]) as ${INSERT_ORDER_WITHIN_LIMITS}`).execute(conn);
      await sql`begin`.execute(conn);
      try {
        await sql`set local plan_cache_mode = force_generic_plan`.execute(conn);
        // EXPLAIN EXECUTE takes no bind parameters: the values are written in.
        const { rows } = await sql<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>`explain (analyze, buffers, format json) execute rate_count_probe(
          ${sql.lit(accountId)}::uuid, ${sql.lit(since)}::timestamptz, ${sql.lit(profileId)}::uuid, array['host-42.example.test'], 1000000, 1000000,
          ${sql.lit(orderId)}::uuid, '[{"type":"dns","value":"host-42.example.test"}]', ${sql.lit(expires)}::timestamptz, ${sql.lit(now)}::timestamptz,
          array[${sql.lit(authorizationId)}::uuid], array['dns'], array['host-42.example.test'], array[false],
          array[${sql.lit(randomUUID())}::uuid], array[${sql.lit(authorizationId)}::uuid], array['http-01'], array['token-42'])`.execute(conn);
        return rows[0]!['QUERY PLAN'][0].Plan;
      } finally {
        await sql`rollback`.execute(conn);
        await sql`deallocate rate_count_probe`.execute(conn);
      }
    });
    const nodes = walk(plan);
    expect(nodes.filter((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'acme_orders')).toEqual([]);
    // The account count (an index range of one account's ~300 orders) and the name count together.
    expect(plan['Shared Hit Blocks'] + plan['Shared Read Blocks']).toBeLessThan(600);
    // The order went in: the count of the name (one earlier order) was under the limit.
    const inserted = nodes.find((n) => n['Node Type'] === 'ModifyTable' && n['Relation Name'] === 'acme_orders');
    expect(inserted?.['Actual Rows']).toBe(1);
  });
});
