import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { jobSpec, type JobSpec } from '@certbridge/connector/protocol';
import { hashPassword } from '../auth/passwords.ts';
import type { Sealer } from '../crypto/sealer.ts';
import type { Database } from '../db/schema.ts';
import { connectorDb, type ConnectorJobRow } from './connectors-tables.ts';

export interface JobRequest {
  connectorId: string;
  /** The ADCS connection whose credentials the sending instance attaches (never stored in the job). */
  connectionId?: string;
  job: JobSpec;
  /** The order this job serves: its ticket is written on the order at once (crash recovery). */
  orderId?: string;
  /** With `orderId`: when the background poll may look at the job if no request thread finalizes it. */
  pollAfterMs?: number;
  /** A `revoke` job: the CA whose certificate (by the job's serial) waits for revocation at ADCS. */
  caId?: string;
  /** The CA's connector pool (more than one member): the job may be handed to another member. */
  pool?: string[];
}

/** Job kinds that create a request at ADCS (a copy of the connector executor's list). */
const SUBMITS = new Set(['submit', 'enroll-keygen']);
const handedOverWarning = (from: string, at: string) =>
  `connector ${from} had received this job when it went offline (${at}) and the job was handed to another connector of the pool; ADCS may hold an earlier request for it`;

/** `answerLost`: a submission's answer from ADCS was lost after it was sent (AdcsError.answerLost). */
export type JobOutcome = { ok: true; result: unknown } | { ok: false; message: string; retryable: boolean; answerLost?: boolean };

export type Sleep = (ms: number) => Promise<void>;
const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Finished jobs are kept this long (status, latency figures, re-delivery answers). */
export const JOB_RETENTION_MS = 7 * 86_400_000;
const TICKET_PREFIX = 'connector-job:';
/** The pending ticket of an order whose job has not been answered yet (`orders.ca_request_id`). */
export const jobTicket = (jobId: string): string => `${TICKET_PREFIX}${jobId}`;
export const jobIdOfTicket = (requestId: string): string | undefined => (requestId.startsWith(TICKET_PREFIX) ? requestId.slice(TICKET_PREFIX.length) : undefined);
const passwordContext = (jobId: string) => `connector-job-password:${jobId}`;
const pkcs12Context = (jobId: string) => `connector-job-pkcs12:${jobId}`;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The job queue in PostgreSQL: any instance enqueues, the instance holding the connector's
 * socket claims (`queued` → `sent`, one UPDATE so two instances never both send it) and records
 * the answer. No process memory is shared. The requester's PKCS#12 password of an
 * `enroll-keygen` job is sealed in the row and removed once the job is done (its scrypt hash
 * stays, to check the download); the PKCS#12 in the answer is kept sealed, never in clear.
 */
export function createConnectorJobs(deps: { db: Kysely<Database>; sealer: Sealer; sleep?: Sleep; pollMs?: number }) {
  const cdb = connectorDb(deps.db);
  const sleep = deps.sleep ?? realSleep;
  // Only the cross-instance case waits for this poll; on the socket's own instance the answer wakes the waiter.
  const pollMs = deps.pollMs ?? 200;
  const finishedListeners: ((row: ConnectorJobRow, latencyMs: number) => void)[] = [];
  const orderReadyListeners: ((orderId: string, at: Date) => void)[] = [];
  const enqueuedListeners: (() => void)[] = [];
  const settledHooks: ((row: ConnectorJobRow, outcome: JobOutcome) => Promise<void>)[] = [];
  // In-process shortcuts: the instance holding the socket dispatches at once, and a waiter on this
  // instance wakes as soon as the answer is recorded. Across instances the polls still carry it.
  const answerWaiters = new Map<string, () => void>();

  async function payloadOf(id: string, job: JobSpec, connectionId?: string, caId?: string, pool?: string[]): Promise<string> {
    const stored = job.kind === 'enroll-keygen'
      ? { job: { ...job, password: '' }, sealedPassword: deps.sealer.seal(job.password, passwordContext(id)), passwordHash: await hashPassword(job.password) }
      : { job };
    return JSON.stringify({ ...stored, ...(connectionId ? { connectionId } : {}), ...(caId ? { caId } : {}), ...(pool && pool.length > 1 ? { pool } : {}) });
  }

  /** The stored form of an answer: a PKCS#12 in it is sealed. */
  function sealResult(id: string, result: unknown): unknown {
    if (!isRecord(result) || typeof result['pkcs12'] !== 'string') return result;
    const { pkcs12, ...rest } = result;
    return { ...rest, sealedPkcs12: deps.sealer.seal(pkcs12, pkcs12Context(id)) };
  }
  function resultOf(id: string, stored: unknown): unknown {
    if (!isRecord(stored) || typeof stored['sealedPkcs12'] !== 'string') return stored;
    const { sealedPkcs12, ...rest } = stored;
    return { ...rest, pkcs12: deps.sealer.openText(sealedPkcs12, pkcs12Context(id)) };
  }

  async function enqueue(req: JobRequest): Promise<string> {
    const id = randomUUID();
    const row = { id, connector_id: req.connectorId, kind: req.job.kind, payload: await payloadOf(id, req.job, req.connectionId, req.caId, req.pool), order_id: req.orderId ?? null };
    if (!req.orderId) {
      await cdb.insertInto('connector_jobs').values(row).execute();
      for (const l of enqueuedListeners) l();
      return id;
    }
    const orderId = req.orderId;
    await deps.db.transaction().execute(async (trx) => {
      await connectorDb(trx).insertInto('connector_jobs').values(row).execute();
      // The order holds the ticket from now on: a server that dies while the request waits leaves
      // an order the background poll completes, not one the stranded-order sweep fails.
      await trx.updateTable('orders').set({ ca_request_id: jobTicket(id), ca_server: req.connectionId ?? null, next_poll_at: new Date(Date.now() + (req.pollAfterMs ?? 60_000)), updated_at: new Date() })
        // A failover to the next server moves the ticket to the new job.
        .where('id', '=', orderId).where('status', '=', 'pending').where((eb) => eb.or([eb('ca_request_id', 'is', null), eb('ca_request_id', 'like', `${TICKET_PREFIX}%`)])).execute();
    });
    for (const l of enqueuedListeners) l();
    return id;
  }

  /** The job as the connector must receive it (the sealed password put back). */
  function specOf(row: ConnectorJobRow): JobSpec | undefined {
    const job = row.payload['job'];
    const sealed = row.payload['sealedPassword'];
    const withPassword = isRecord(job) && typeof sealed === 'string' ? { ...job, password: deps.sealer.openText(sealed, passwordContext(row.id)) } : job;
    const parsed = jobSpec.safeParse(withPassword);
    return parsed.success ? parsed.data : undefined;
  }

  /**
   * A submit that a pool member had received before it went offline may have reached ADCS there:
   * the answer of the member that took it over says so, as the journal does for a re-run.
   */
  async function withHandOverWarning(id: string, outcome: JobOutcome): Promise<JobOutcome> {
    if (!outcome.ok || !isRecord(outcome.result) || outcome.result['warning']) return outcome;
    const row = await cdb.selectFrom('connector_jobs').select(['kind', 'payload']).where('id', '=', id).executeTakeFirst();
    const from = row?.payload['handedOverFrom'];
    if (!row || !SUBMITS.has(row.kind) || !isRecord(from) || from['sent'] !== true) return outcome;
    return { ok: true, result: { ...outcome.result, warning: handedOverWarning(String(from['name']), String(from['at'])) } };
  }

  async function finish(id: string, answer: JobOutcome, connectorId?: string): Promise<ConnectorJobRow | undefined> {
    const outcome = await withHandOverWarning(id, answer);
    const now = new Date();
    let q = cdb.updateTable('connector_jobs').set({
      status: outcome.ok ? 'done' : 'failed',
      result: outcome.ok ? JSON.stringify(sealResult(id, outcome.result) ?? null) : null,
      error: outcome.ok ? null : JSON.stringify({ message: outcome.message, retryable: outcome.retryable, ...(outcome.answerLost ? { answerLost: true } : {}) }),
      // A done job no longer needs the requester's password; a failed one may be retried elsewhere.
      ...(outcome.ok ? { payload: sql<string>`payload - 'sealedPassword'` } : {}),
      updated_at: now, finished_at: now,
    }).where('id', '=', id).where('status', 'in', ['queued', 'sent']);
    if (connectorId) q = q.where('connector_id', '=', connectorId);
    const row = await q.returningAll().executeTakeFirst();
    if (!row) return undefined;
    answerWaiters.get(id)?.();
    await cdb.updateTable('connectors').set((eb) => (outcome.ok ? { jobs_done: eb('jobs_done', '+', 1) } : { jobs_failed: eb('jobs_failed', '+', 1) }))
      .where('id', '=', row.connector_id).execute();
    for (const l of finishedListeners) l(row, now.getTime() - row.created_at.getTime());
    for (const h of settledHooks) await h(row, outcome);
    if (outcome.ok && row.order_id) await orderReady(row);
    return row;
  }

  /**
   * An answered job whose order waits in the background: its next poll is brought forward. When
   * no request thread has given up on it yet (no disposition), a few seconds of grace let that
   * thread finalize it first.
   */
  async function orderReady(row: ConnectorJobRow): Promise<void> {
    const order = await deps.db.selectFrom('orders').select(['id', 'disposition']).where('id', '=', row.order_id!).where('status', '=', 'pending')
      .where('ca_request_id', '=', jobTicket(row.id)).executeTakeFirst();
    if (!order) return;
    const at = new Date(Date.now() + (order.disposition ? 0 : 5_000));
    await deps.db.updateTable('orders').set({ next_poll_at: at }).where('id', '=', order.id).where('status', '=', 'pending').execute();
    for (const l of orderReadyListeners) l(order.id, at);
  }

  return {
    enqueue,
    specOf,
    finish,
    onEnqueued: (listener: () => void) => void enqueuedListeners.push(listener),
    onFinished: (listener: (row: ConnectorJobRow, latencyMs: number) => void) => void finishedListeners.push(listener),
    /** Awaited after a job's answer is recorded (revocation at ADCS settles its certificate here). */
    onSettled: (hook: (row: ConnectorJobRow, outcome: JobOutcome) => Promise<void>) => void settledHooks.push(hook),
    /** Called when an order can be completed now (the server wires this to the pending poll on pg-boss). */
    onOrderReady: (listener: (orderId: string, at: Date) => void) => void orderReadyListeners.push(listener),
    /**
     * Claims the queued jobs of the given connectors for this instance (oldest first). Jobs whose
     * order ended meanwhile (failed by its pending lifetime, cancelled) are failed, never sent.
     */
    async claim(connectorIds: string[], instance: string, limit = 20): Promise<ConnectorJobRow[]> {
      if (connectorIds.length === 0) return [];
      const due = await cdb.selectFrom('connector_jobs').select('id').where('connector_id', 'in', connectorIds).where('status', '=', 'queued').orderBy('created_at').limit(limit).execute();
      if (due.length === 0) return [];
      const claimed = await cdb.updateTable('connector_jobs').set((eb) => ({ status: 'sent', instance, deliveries: eb('deliveries', '+', 1), updated_at: new Date() }))
        .where('id', 'in', due.map((d) => d.id)).where('status', '=', 'queued').returningAll().execute();
      const orderIds = claimed.flatMap((r) => (r.order_id ? [r.order_id] : []));
      const ended = orderIds.length ? await deps.db.selectFrom('orders').select(['id', 'status']).where('id', 'in', orderIds).where('status', '!=', 'pending').execute() : [];
      const endedStatus = new Map(ended.map((o) => [o.id, o.status]));
      const live: ConnectorJobRow[] = [];
      for (const r of claimed) {
        const status = r.order_id ? endedStatus.get(r.order_id) : undefined;
        if (status) await finish(r.id, { ok: false, message: `order ${r.order_id} is ${status}; the job was not sent`, retryable: false });
        else live.push(r);
      }
      return live;
    },
    /** Jobs sent on a socket that went away go back to the queue; the connector answers them again on reconnect. */
    async requeue(connectorId: string, instance?: string): Promise<number> {
      let q = cdb.updateTable('connector_jobs').set({ status: 'queued', instance: null, updated_at: new Date() }).where('connector_id', '=', connectorId).where('status', '=', 'sent');
      if (instance) q = q.where('instance', '=', instance);
      return (await q.returning('id').execute()).length;
    },
    /** Open (queued or sent) jobs per connector: the pool sends a job to the least busy member. */
    async openCounts(connectorIds: string[]): Promise<Record<string, number>> {
      if (connectorIds.length === 0) return {};
      const rows = await cdb.selectFrom('connector_jobs').select((eb) => ['connector_id', eb.fn.countAll<string>().as('n')])
        .where('connector_id', 'in', connectorIds).where('status', 'in', ['queued', 'sent']).groupBy('connector_id').execute();
      return Object.fromEntries(rows.map((r) => [r.connector_id, Number(r.n)]));
    },
    /**
     * The open jobs of a pool member that went offline move to another member `pick` names (the
     * same job id, so a request waiting for it still gets the answer). A job the member had
     * already received is marked, so its answer carries the may-be-at-ADCS-twice warning.
     */
    async handOver(from: { id: string; name: string }, pick: (others: string[]) => Promise<string | undefined>): Promise<number> {
      const open = await cdb.selectFrom('connector_jobs').selectAll().where('connector_id', '=', from.id).where('status', 'in', ['queued', 'sent'])
        .where(sql<boolean>`payload ? 'pool'`).orderBy('created_at').execute();
      let moved = 0;
      for (const row of open) {
        const pool = Array.isArray(row.payload['pool']) ? row.payload['pool'].filter((p): p is string => typeof p === 'string' && p !== from.id) : [];
        const to = pool.length ? await pick(pool) : undefined;
        if (!to) continue;
        const sent = row.status === 'sent' || row.deliveries > 0 || isRecord(row.payload['handedOverFrom']);
        const mark = JSON.stringify({ handedOverFrom: { name: from.name, at: new Date().toISOString(), sent } });
        const done = await cdb.updateTable('connector_jobs').set({ connector_id: to, status: 'queued', instance: null, payload: sql<string>`payload || ${mark}::jsonb`, updated_at: new Date() })
          .where('id', '=', row.id).where('connector_id', '=', from.id).where('status', '=', row.status).returning('id').executeTakeFirst();
        if (done) moved++;
      }
      if (moved) for (const l of enqueuedListeners) l();
      return moved;
    },
    /** Waits up to `timeoutMs` for a job's answer; undefined when there is none yet (the job stays queued). */
    async wait(id: string, timeoutMs: number): Promise<JobOutcome | undefined> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const row = await cdb.selectFrom('connector_jobs').select(['status', 'result', 'error']).where('id', '=', id).executeTakeFirstOrThrow();
        if (row.status === 'done') return { ok: true, result: resultOf(id, row.result) };
        if (row.status === 'failed') {
          const err = JSON.parse(row.error ?? '{}') as { message?: string; retryable?: boolean; answerLost?: boolean };
          return { ok: false, message: err.message ?? 'the connector reported a failure', retryable: err.retryable ?? false, ...(err.answerLost ? { answerLost: true } : {}) };
        }
        if (Date.now() >= deadline) return undefined;
        await Promise.race([sleep(pollMs), new Promise<void>((resolve) => answerWaiters.set(id, resolve))]);
        answerWaiters.delete(id);
      }
    },
    /** A failed job asked again (same spec, another server perhaps); the old row loses its sealed password. */
    async retry(row: ConnectorJobRow, connectionId: string): Promise<string | undefined> {
      const spec = specOf(row);
      if (!spec) return undefined;
      const pool = Array.isArray(row.payload['pool']) ? row.payload['pool'].filter((p): p is string => typeof p === 'string') : undefined;
      const id = await enqueue({ connectorId: row.connector_id, connectionId, job: spec, ...(pool ? { pool } : {}) });
      await cdb.updateTable('connector_jobs').set({ order_id: row.order_id, updated_at: new Date() }).where('id', '=', id).execute();
      await cdb.updateTable('connector_jobs').set({ payload: sql<string>`payload - 'sealedPassword'` }).where('id', '=', row.id).execute();
      return id;
    },
    get: (id: string) => cdb.selectFrom('connector_jobs').selectAll().where('id', '=', id).executeTakeFirst(),
    /** A done job's answer with a sealed PKCS#12 opened again. */
    resultOf: (row: ConnectorJobRow): unknown => resultOf(row.id, row.result),
    /** Once the PKCS#12 has moved to the download store, the job keeps no copy. */
    async dropPkcs12(id: string): Promise<void> {
      await cdb.updateTable('connector_jobs').set({ result: sql<string>`result - 'sealedPkcs12'` }).where('id', '=', id).execute();
    },
    /** Queue depth by state (metrics). */
    async countByStatus(): Promise<Record<string, number>> {
      const rows = await cdb.selectFrom('connector_jobs').select((eb) => ['status', eb.fn.countAll<string>().as('n')]).groupBy('status').execute();
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    },
    /** Drops finished jobs past retention and queued jobs whose order ended. */
    async housekeeping(now = new Date()): Promise<{ deleted: number; abandoned: number }> {
      const deleted = await cdb.deleteFrom('connector_jobs').where('status', 'in', ['done', 'failed']).where('finished_at', '<', new Date(now.getTime() - JOB_RETENTION_MS)).returning('id').execute();
      const orphans = await cdb.selectFrom('connector_jobs').innerJoin('orders', 'orders.id', 'connector_jobs.order_id').select('connector_jobs.id')
        .where('connector_jobs.status', '=', 'queued').where('orders.status', '!=', 'pending').execute();
      for (const o of orphans) await finish(o.id, { ok: false, message: 'the order ended before the connector took the job', retryable: false });
      return { deleted: deleted.length, abandoned: orphans.length };
    },
  };
}

export type ConnectorJobs = ReturnType<typeof createConnectorJobs>;
