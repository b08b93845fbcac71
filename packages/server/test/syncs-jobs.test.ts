import { sql } from 'kysely';
import PgBoss from 'pg-boss';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNC_QUEUE, startSyncJobs } from '../src/syncs/syncs-jobs.ts';
import { TAG_ID } from '../src/syncs/sync-reconciler.ts';
import { bearer, ENGINES } from './helpers.ts';
import { createMemoryVault, createSyncEnv, type SyncEnv } from './sync-fixtures.ts';

/** The request path only enqueues: pg-boss carries sync work to its worker (both database modes). */
describe.each(ENGINES)('Key Vault sync through pg-boss (%s)', (engine) => {
  const vault = createMemoryVault();
  let s: SyncEnv;
  let boss: PgBoss;

  const until = async <T>(what: () => Promise<T | undefined>, ms = 20_000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const value = await what();
      if (value !== undefined) return value;
      if (Date.now() > end) throw new Error('timed out waiting for the sync worker');
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  beforeAll(async () => {
    s = await createSyncEnv(engine, async () => vault.client);
    await s.core.azure.connections.create(s.admin, {
      name: 'kv', type: 'azure-key-vault', method: 'client-secret', tenantId: '8c5e3b5e-1111-4a3b-9c1d-0e2f3a4b5c6d',
      clientId: '0b7d2f43-2222-4b6c-8d7e-1f2a3b4c5d6e', clientSecret: 'not used', vaultName: 'kv-jobs',
    });
    boss = new PgBoss({ ...s.env.handle.boss, schema: 'pgboss' });
    await boss.start();
    await startSyncJobs(boss, s.core.syncs, pino({ level: 'silent' }), async (b, name) => b.createQueue(name));
  }, 60_000);
  afterAll(async () => {
    await boss?.stop({ graceful: false, wait: true });
    await s?.env.close();
  });

  it('ok/creating a sync and issuing a certificate put jobs on the queue; the worker imports the certificate', async () => {
    const created = await s.env.app.inject({ method: 'POST', url: '/api/v1/syncs', headers: bearer(s.env.adminToken), payload: { name: 'queued', connection: 'kv', applications: ['default'] } });
    expect(created.statusCode).toBe(201);
    const cert = await s.issue('queued.sync.test');
    // Nobody calls the reconciler here: the pg-boss worker does.
    const version = await until(async () => [...vault.live.values()].flat().find((v) => v.tags[TAG_ID] === cert.id));
    expect(version.enabled).toBe(true);
    expect(s.queued).toEqual([]);
    const jobs = await until(async () => {
      const { rows } = await sql<{ kind: string; state: string }>`select data->>'kind' as kind, state from pgboss.job where name = ${SYNC_QUEUE} order by created_on`.execute(s.env.handle.db);
      return rows.length === 2 && rows.every((r) => r.state === 'completed') ? rows : undefined;
    });
    expect(jobs.map((j) => j.kind)).toEqual(['sync', 'certificate']);
  }, 30_000);
});
