import type PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import { SyncRunError } from './sync-reconciler.ts';
import type { SyncJob, SyncsModule } from './syncs-module.ts';

/** One queue for all sync work: full runs (create, update, "run now") and one certificate's lineage (events). */
export const SYNC_QUEUE = 'sync-work';

/**
 * A run that met throttling (429) or an outage after the SDK's own Retry-After retries is
 * retried by pg-boss: 30 s, then doubling, eight times; the periodic reconcile takes over after.
 */
const RETRY = { retryLimit: 8, retryDelay: 30, retryBackoff: true } as const;

/**
 * Starts the sync worker and routes the module's work to pg-boss. Failures that waiting cannot
 * fix (a missing permission, a connection that was removed) are recorded on the sync and its
 * certificates, logged, and not retried until the next reconcile.
 */
export async function startSyncJobs(boss: PgBoss, syncs: SyncsModule, log: Logger, createQueue: (boss: PgBoss, name: string) => Promise<void>): Promise<void> {
  await createQueue(boss, SYNC_QUEUE);
  await boss.work<SyncJob>(SYNC_QUEUE, async ([job]) => {
    if (!job) return;
    try {
      await syncs.handle(job.data);
    } catch (err) {
      if (err instanceof SyncRunError && !err.retryable) {
        log.warn({ job: job.data, err: err.message }, 'Key Vault sync left certificates failed');
        return;
      }
      throw err;
    }
  });
  syncs.useQueue(
    { send: async (job) => void (await boss.send(SYNC_QUEUE, job, RETRY)) },
    (err, job) => log.error({ err, job }, 'could not queue Key Vault sync work; the periodic reconcile will catch up'),
  );
}
