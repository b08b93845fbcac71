import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import type { Core } from '../core.ts';
import type { DatabaseHandle } from '../db/database.ts';
import { startSyncJobs } from '../syncs/syncs-jobs.ts';

/** Orders still without a CA answer after this long were stranded by a crash. */
export const STRANDED_ORDER_MS = 10 * 60_000;

/** Recurring work, each with its cron schedule; pg-boss runs each schedule once across instances. */
const SCHEDULES = {
  'crl-refresh': '*/10 * * * *',
  'orders-stranded': '*/5 * * * *',
  // ADCS (issue 4): pending orders whose next poll time has come, server health, template cache.
  'adcs-pending-poll': '* * * * *',
  'adcs-health': '* * * * *',
  'adcs-templates-refresh': '17 * * * *',
  // Azure (issue 8): client-secret rotations whose time (or retry backoff) has come.
  'azure-secret-rotation': '* * * * *',
  // Connectors (issue 7): retention of finished jobs and of PKCS#12 files nobody downloaded.
  'connector-housekeeping': '*/15 * * * *',
  // Key Vault syncs (issue 8): repairs drift (deleted or disabled in the vault, missed events).
  'syncs-reconcile': '*/15 * * * *',
} as const;

type JobName = keyof typeof SCHEDULES;

/**
 * Background jobs on pg-boss, in both database modes (PGlite through the shared-session adapter).
 * Job locks live in the database, so a second server instance never runs the same job twice.
 */
export async function startJobs(handle: DatabaseHandle, core: Core, log: Logger): Promise<PgBoss> {
  const boss = new PgBoss({ ...handle.boss, schema: 'pgboss', supervise: true, schedule: true });
  boss.on('error', (err) => log.error({ err }, 'background job system error'));
  await boss.start();
  const handlers: Record<JobName, () => Promise<void>> = {
    'crl-refresh': async () => {
      const n = await core.crl.refreshDue();
      if (n) log.info({ cas: n }, 'CRLs regenerated');
    },
    'orders-stranded': async () => {
      const n = await core.issuance.failStrandedOrders(STRANDED_ORDER_MS);
      if (n) log.warn({ orders: n }, 'stranded orders marked failed');
    },
    'adcs-pending-poll': async () => {
      const { polled } = await core.adcs.pending.runDue();
      if (polled) log.info({ orders: polled }, 'pending ADCS orders polled');
      const activated = await core.adcs.subordinates.pollPending();
      if (activated) log.info({ cas: activated }, 'ADCS-signed intermediate CAs activated');
    },
    'adcs-health': async () => void (await core.adcs.cas.healthCheck()),
    'adcs-templates-refresh': async () => void (await core.adcs.templates.refreshAll()),
    'azure-secret-rotation': async () => {
      const { rotated, failed } = await core.azure.rotation.runDue();
      if (rotated || failed) log[failed ? 'warn' : 'info']({ rotated, failed }, 'Azure client-secret rotations ran');
    },
    'connector-housekeeping': async () => {
      const r = await core.connectors.housekeeping();
      if (r.deleted || r.abandoned || r.pkcs12Purged) log.info(r, 'connector jobs and PKCS#12 files past retention removed');
      if (r.revocationsRetried || r.revocationsCleared) log.info({ retried: r.revocationsRetried, cleared: r.revocationsCleared }, 'revocations at ADCS through connectors asked again or settled');
    },
    'syncs-reconcile': async () => {
      const r = await core.syncs.reconcileAll();
      if (r.failed) log.warn(r, 'Key Vault syncs left certificates failed (see GET /api/v1/syncs/{id}/certificates)');
    },
  };
  for (const [name, cron] of Object.entries(SCHEDULES) as [JobName, string][]) {
    await createQueue(boss, name);
    await boss.schedule(name, cron);
    await boss.work(name, async () => handlers[name]());
  }
  await startSyncJobs(boss, core.syncs, log, createQueue);
  // A connector answered the job of a waiting order: poll it now rather than at its next backoff step.
  core.connectors.jobs.onOrderReady((_orderId, at) => void boss.send('adcs-pending-poll', {}, { startAfter: at }).catch((err: unknown) => log.error({ err }, 'could not queue the pending poll')));
  return boss;
}

/**
 * pg-boss 10's `create_queue` deadlocks (PostgreSQL 40P01) when two instances create the same
 * queue at the same moment; the loser's transaction is rolled back, and retrying then finds the
 * queue the winner made (ON CONFLICT DO NOTHING).
 */
async function createQueue(boss: PgBoss, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await boss.createQueue(name);
    } catch (err) {
      if ((err as { code?: string }).code !== '40P01' || attempt >= 5) throw err;
    }
  }
}
