/**
 * The ADCS rate cap's token take is committed asynchronously (rate-limiter.ts): the bucket row
 * still changes with every grant, and the relaxed commit stays inside that one statement instead
 * of leaking into the pooled connection that ran it (where it would weaken an order's commit).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../src/db/database.ts';
import { createRateLimiter } from '../src/ca-backends/adcs/rate-limiter.ts';
import { ENGINES, freshDatabase } from './helpers.ts';

describe.each(ENGINES)('ADCS rate limiter on %s', (engine) => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  /** A connection row: the bucket is a column set of the server's state row. */
  const server = async (): Promise<string> => {
    const id = randomUUID();
    await db.handle.db.insertInto('connections').values({ id, name: `limited-${id}`, type: 'adcs', url: 'https://adcs.corp.example.test/certsrv/', domain: 'CORP', username: 'alice', password_sealed: 'sealed-password-not-used-here', auth: 'basic', ca_pem: null }).execute();
    return id;
  };

  beforeAll(async () => {
    db = await freshDatabase(engine);
    await migrateToLatest(db.handle.db);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('ok/each-grant-takes-a-token-from-the-stored-bucket', async () => {
    const limiter = createRateLimiter(db.handle.db, async () => { throw new Error('no wait expected while the bucket holds tokens'); });
    const key = await server();
    const started = performance.now();
    for (let i = 0; i < 3; i++) await limiter.acquire(key, 100);
    const elapsedMs = performance.now() - started;
    const row = await db.handle.db.selectFrom('adcs_server_state').select('tokens').where('connection_id', '=', key).executeTakeFirstOrThrow();
    // 100 - 3 taken, plus at most what refilled (100/s) while the three statements ran.
    const tokens = Number(row.tokens);
    expect({ atLeast97: tokens >= 97 - 1e-6, atMostRefilled: tokens <= 97 + (100 * elapsedMs) / 1000 + 1e-6 }).toEqual({ atLeast97: true, atMostRefilled: true });
  });

  it('ok/synchronous-commit-stays-on-for-the-connections-afterwards', async () => {
    const limiter = createRateLimiter(db.handle.db, async () => {});
    const key = await server();
    await Promise.all(Array.from({ length: 20 }, () => limiter.acquire(key, 1000)));
    // As many concurrent reads as the pool has connections, so every connection that took a token answers.
    const settings = await Promise.all(Array.from({ length: 20 }, async () => (await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(db.handle.db)).rows[0]?.synchronous_commit));
    expect([...new Set(settings)]).toEqual(['on']);
  });
});
