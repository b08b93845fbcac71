import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { jobSpec, type JobSpec } from '@certbridge/connector/protocol';
import type { Database } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { connectorDb, type ConnectorJobRow } from './connectors-tables.ts';

export interface JobRequest {
  connectorId: string;
  /** The ADCS connection whose credentials the sending instance attaches (never stored in the job). */
  connectionId?: string;
  job: JobSpec;
}

export type JobOutcome = { ok: true; result: unknown } | { ok: false; message: string; retryable: boolean };

export type Sleep = (ms: number) => Promise<void>;
const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Secrets inside a job spec that must not rest in the jobs table after the job ends. */
const scrub = (job: JobSpec): JobSpec => (job.kind === 'enroll-keygen' ? { ...job, password: '' } : job);

/**
 * The job queue in PostgreSQL: any instance enqueues, the instance holding the connector's
 * socket claims (`queued` → `sent`, one UPDATE so two instances never both send it) and
 * records the answer; the enqueuer waits by reading the row. No process memory is shared.
 */
export function createConnectorJobs(deps: { db: Kysely<Database>; sleep?: Sleep; pollMs?: number }) {
  const cdb = connectorDb(deps.db);
  const sleep = deps.sleep ?? realSleep;
  const pollMs = deps.pollMs ?? 50;

  async function finish(id: string, outcome: JobOutcome): Promise<ConnectorJobRow | undefined> {
    const row = await cdb.updateTable('connector_jobs').set({
      status: outcome.ok ? 'done' : 'failed',
      result: outcome.ok ? JSON.stringify(outcome.result ?? null) : null,
      error: outcome.ok ? null : JSON.stringify({ message: outcome.message, retryable: outcome.retryable }),
      updated_at: new Date(),
    }).where('id', '=', id).where('status', 'in', ['queued', 'sent']).returningAll().executeTakeFirst();
    if (row) {
      await cdb.updateTable('connectors').set((eb) => (outcome.ok ? { jobs_done: eb('jobs_done', '+', 1) } : { jobs_failed: eb('jobs_failed', '+', 1) }))
        .where('id', '=', row.connector_id).execute();
      const spec = jobSpec.safeParse(row.payload['job']);
      if (spec.success && spec.data.kind === 'enroll-keygen') {
        await cdb.updateTable('connector_jobs').set({ payload: JSON.stringify({ ...row.payload, job: scrub(spec.data) }) }).where('id', '=', id).execute();
      }
    }
    return row;
  }

  return {
    async enqueue(req: JobRequest): Promise<string> {
      const id = randomUUID();
      await cdb.insertInto('connector_jobs').values({
        id, connector_id: req.connectorId, kind: req.job.kind, payload: JSON.stringify({ job: req.job, ...(req.connectionId ? { connectionId: req.connectionId } : {}) }),
      }).execute();
      return id;
    },
    /** Claims the queued jobs of the given connectors for this instance (oldest first). */
    async claim(connectorIds: string[], instance: string, limit = 20): Promise<ConnectorJobRow[]> {
      if (connectorIds.length === 0) return [];
      const due = await cdb.selectFrom('connector_jobs').select('id').where('connector_id', 'in', connectorIds).where('status', '=', 'queued').orderBy('created_at').limit(limit).execute();
      if (due.length === 0) return [];
      return cdb.updateTable('connector_jobs').set({ status: 'sent', instance, updated_at: new Date() })
        .where('id', 'in', due.map((d) => d.id)).where('status', '=', 'queued').returningAll().execute();
    },
    /** Jobs sent on a socket that went away go back to the queue; the connector answers them again on reconnect. */
    async requeue(connectorId: string, instance: string): Promise<number> {
      const rows = await cdb.updateTable('connector_jobs').set({ status: 'queued', instance: null, updated_at: new Date() })
        .where('connector_id', '=', connectorId).where('status', '=', 'sent').where('instance', '=', instance).returning('id').execute();
      return rows.length;
    },
    finish,
    /**
     * Waits for a job's answer. On timeout the job is failed (so a late connector cannot act on it
     * after the caller gave up) and a CA_UNAVAILABLE error names the connector.
     */
    async wait(id: string, timeoutMs: number, connectorName: string): Promise<JobOutcome> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const row = await cdb.selectFrom('connector_jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        if (row.status === 'done') return { ok: true, result: row.result };
        if (row.status === 'failed') {
          const err = JSON.parse(row.error ?? '{}') as { message?: string; retryable?: boolean };
          return { ok: false, message: err.message ?? 'the connector reported a failure', retryable: err.retryable ?? false };
        }
        if (Date.now() >= deadline) {
          const failed = await finish(id, { ok: false, message: 'timed out', retryable: true });
          if (failed) throw new AppError('CA_UNAVAILABLE', `waiting for connector ${connectorName}: no answer within ${Math.round(timeoutMs / 1000)} s (the connector is offline or busy)`, { connector: connectorName, job: id, status: row.status });
          continue;
        }
        await sleep(pollMs);
      }
    },
    get: (id: string) => cdb.selectFrom('connector_jobs').selectAll().where('id', '=', id).executeTakeFirst(),
  };
}

export type ConnectorJobs = ReturnType<typeof createConnectorJobs>;
