import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/schema.ts';
import { createAcmeRepository } from '../src/enrollment/acme/acme-repository.ts';
import { acmeDb } from '../src/enrollment/acme/acme-tables.ts';
import { insertOrderWithinLimits } from '../src/enrollment/acme/new-order-statement.ts';
import { createUsersRepository } from '../src/repositories/users-repository.ts';
import { createTestEnv, type TestEnv } from './helpers.ts';

/**
 * The hot statements whose parameters would steer the plan (arrays to unnest, a time against a
 * range) reach PostgreSQL's generic plan, so they are planned at most five times per connection
 * instead of on every execution (db/prepared-statements.ts). The tables are as a running directory
 * has them, for plans that see the values to look cheaper: with the parameters written bare, each
 * of these statements is planned on every execution here, and these tests fail.
 */
const PG = process.env['TEST_DATABASE_URL'];
const EXECUTIONS = 12; // the first two go unnamed; then five custom plans, then the generic one
const DAY_MS = 86_400_000;

describe.skipIf(!PG)('hot statements reach a generic plan (postgres)', () => {
  let env: TestEnv;
  let accountId: string;
  let profileId: string;

  beforeAll(async () => {
    env = await createTestEnv('postgres');
    const db = env.handle.db;
    const profile = await db.selectFrom('profiles').select(['id']).where('slug', '=', 'default-tls').executeTakeFirstOrThrow();
    const application = await db.selectFrom('applications').select(['id']).where('name', '=', 'default').executeTakeFirstOrThrow();
    profileId = profile.id;
    accountId = randomUUID();
    await sql`insert into acme_accounts (id, profile_id, application_id, thumbprint, jwk, status)
      values (${accountId}::uuid, ${profileId}::uuid, ${application.id}::uuid, 'thumbprint', '{}'::jsonb, 'valid')`.execute(db);
    // A directory that has been in use: nonces issued ahead, an account's older orders.
    await sql`insert into acme_nonces (nonce, expires_at) select 'n' || i, now() + i * interval '1 second' from generate_series(1, 5000) i`.execute(db);
    await sql`insert into acme_orders (id, account_id, status, identifiers, expires_at, created_at)
      select gen_random_uuid(), ${accountId}::uuid, 'valid', '[]'::jsonb, now() + interval '7 days', now() - i * interval '1 minute' from generate_series(1, 2000) i`.execute(db);
    // Autovacuum analyses a table from 50 changed rows on: the busy ACME tables are analysed, a
    // handful of API tokens never are.
    await sql`analyze acme_nonces, acme_orders`.execute(db);
  });

  afterAll(async () => {
    await env?.close();
  });

  /** Runs `use` EXECUTIONS times on one connection; the plan counts of the statement whose text contains `marker`. */
  async function planCounts(marker: string, use: (conn: Kysely<Database>, i: number) => Promise<unknown>) {
    return env.handle.db.connection().execute(async (conn) => {
      for (let i = 0; i < EXECUTIONS; i++) await use(conn, i);
      const { rows } = await sql<{ generic_plans: string; custom_plans: string }>`
        select generic_plans::text, custom_plans::text from pg_prepared_statements where name like 'cb_%' and position(${marker} in statement) > 0`.execute(conn);
      expect(rows).toHaveLength(1);
      return { generic: Number(rows[0]!.generic_plans), custom: Number(rows[0]!.custom_plans) };
    });
  }

  it('ok/the API token lookup of every authenticated request', async () => {
    const counts = await planCounts('api_tokens.token_hash = any', (conn, i) => createUsersRepository(conn).findTokensByHashes([`hash-${i}`]));
    expect(counts.custom).toBeLessThanOrEqual(5);
    expect(counts.generic).toBeGreaterThan(0);
  });

  it('ok/the nonce statement of every signed ACME request', async () => {
    const counts = await planCounts('consumed as (delete from acme_nonces', (conn, i) => createAcmeRepository(acmeDb(conn)).consumeNoncesAndFindAccounts(
      [{ nonce: `n${i + 1}`, accountId, read: { kind: 'order', id: randomUUID() } }], new Date(),
    ));
    expect(counts.custom).toBeLessThanOrEqual(5);
    expect(counts.generic).toBeGreaterThan(0);
  });

  it('ok/newOrder with its rate-limit counts', async () => {
    const counts = await planCounts('with counts as', async (conn, i) => {
      const orderId = randomUUID();
      const authorizationId = randomUUID();
      const now = new Date();
      const { order } = await insertOrderWithinLimits(acmeDb(conn), {
        order: { id: orderId, account_id: accountId, identifiers: JSON.stringify([{ type: 'dns', value: `host-${i}.example.test` }]), expires_at: new Date(now.getTime() + DAY_MS), created_at: now },
        authorizations: [{ id: authorizationId, identifier_type: 'dns', identifier_value: `host-${i}.example.test`, wildcard: false }],
        challenges: [{ id: randomUUID(), authorization_id: authorizationId, type: 'http-01', token: `token-${i}` }],
      }, { profileId, since: new Date(now.getTime() - 3 * 3_600_000), values: [`host-${i}.example.test`], accountLimit: 1_000_000, identifierLimit: 1_000_000 });
      expect(order?.id).toBe(orderId);
    });
    expect(counts.custom).toBeLessThanOrEqual(5);
    expect(counts.generic).toBeGreaterThan(0);
  });
});
