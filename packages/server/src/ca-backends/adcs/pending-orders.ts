import { performance } from 'node:perf_hooks';
import type { Kysely } from 'kysely';
import { appendAudit } from '../../audit/audit-log.ts';
import type { ApplicationAccess } from '../../auth/application-access.ts';
import type { Principal } from '../../auth/principal.ts';
import type { Clock } from '../../clock.ts';
import type { Database, OrderRow } from '../../db/schema.ts';
import { AppError, notFound } from '../../errors.ts';
import type { IssuanceService, IssueOutcome } from '../../issuance/issuance-service.ts';
import { DEFAULT_PENDING_LIFETIME_DAYS, pollDelayMs } from './pending-schedule.ts';
import { jobIdOfTicket } from '../../connectors/connector-jobs.ts';

const DAY_MS = 86_400_000;
/** Due orders claimed per statement. */
export const POLL_BATCH = 50;
/** How long a claimed order is kept from other runs (a run that dies leaves its orders this late). */
export const CLAIM_LEASE_MS = 5 * 60_000;
/** A run stops claiming after this long: pg-boss starts the next one every minute. */
export const RUN_BUDGET_MS = 50_000;
/** Polls in flight at once in one run; ADCS answers a poll in tens to hundreds of ms. */
export const POLL_CONCURRENCY = 8;

/**
 * Why a cancelled ADCS order may still be issued at the CA: certsrv web enrollment has no page
 * that withdraws a request (only ICertAdminD::DenyRequest of MS-CSRA does, over DCOM/RPC,
 * which Certbridge does not reach), so the request stays in the CA's pending queue.
 */
export const cancelNote = (caRequestId: string | null): string => caRequestId
  ? `cancelled in Certbridge only: ADCS request ${caRequestId} stays in the CA's pending queue (web enrollment cannot withdraw a request); ask a CA manager to deny it in the Certification Authority console (Pending Requests → Deny), or it may still be issued there. Certbridge no longer polls it.`
  : 'cancelled in Certbridge before it reached the CA: nothing is pending at ADCS.';

/** What one poll of a pending order did. */
export type PollStep =
  | { status: 'issued' | 'denied' | 'pending'; order: OrderRow }
  | { status: 'expired'; order: OrderRow }
  | { status: 'unreachable'; order: OrderRow; message: string };

/**
 * Pending orders (ADCS CA-manager approval): the background poll (pg-boss job `adcs-pending-poll`),
 * "poll now" and cancel. All state is in the orders table (`next_poll_at`, `attempts`), so polling
 * carries on after a restart. Polls back off exponentially up to an hour; an order still pending
 * after its profile's pending lifetime (default 30 days) becomes `failed` with a clear message.
 */
export function createPendingOrders(deps: { db: Kysely<Database>; issuance: IssuanceService; access: ApplicationAccess; clock: Clock }) {
  const { db, issuance, access, clock } = deps;

  async function setState(order: OrderRow, patch: Partial<Pick<OrderRow, 'status' | 'error' | 'next_poll_at' | 'attempts'>>, audit: { actor: Principal | null; action: string; details: Record<string, unknown> } | null) {
    return db.transaction().execute(async (trx) => {
      const row = await trx.updateTable('orders').set({
        ...(patch.status ? { status: patch.status, server_key_sealed: null } : {}),
        ...(patch.error !== undefined ? { error: JSON.stringify(patch.error) } : {}),
        ...(patch.next_poll_at !== undefined ? { next_poll_at: patch.next_poll_at } : {}),
        ...(patch.attempts !== undefined ? { attempts: patch.attempts } : {}),
        updated_at: new Date(),
      }).where('id', '=', order.id).where('status', '=', 'pending').returningAll().executeTakeFirst();
      if (!row) throw new AppError('CONFLICT', `order ${order.id} is no longer pending`);
      if (audit) await appendAudit(trx, { actor: audit.actor, action: audit.action, resourceType: 'order', resourceId: order.id, outcome: audit.action === 'order.cancel' ? 'success' : 'failure', details: audit.details }, clock);
      return row;
    });
  }

  async function pollOne(order: OrderRow, actor: Principal | null): Promise<PollStep> {
    const now = clock.now();
    const profile = await db.selectFrom('profiles').select(['pending_lifetime_days']).where('id', '=', order.profile_id).executeTakeFirst();
    const lifetimeDays = profile?.pending_lifetime_days ?? DEFAULT_PENDING_LIFETIME_DAYS;
    if (now.getTime() > order.created_at.getTime() + lifetimeDays * DAY_MS) {
      const message = order.ca_request_id && jobIdOfTicket(order.ca_request_id)
        ? `no answer through the on-prem connector within ${lifetimeDays} days (the profile's pending lifetime): ${order.disposition ?? 'waiting for connector'}; bring the connector online, then submit again`
        : `still pending at the CA after ${lifetimeDays} days (the profile's pending lifetime): request ${order.ca_request_id} was neither approved nor denied by a CA manager; ask them to decide it, then submit again`;
      return { status: 'expired', order: await setState(order, { status: 'failed', error: { message, reason: 'pending-lifetime' }, next_poll_at: null }, { actor, action: 'order.failed', details: { reason: 'pending-lifetime', lifetimeDays } }) };
    }
    let outcome: IssueOutcome;
    try {
      outcome = await issuance.poll(order.id, actor);
    } catch (err) {
      if (err instanceof AppError && (err.code === 'CONFLICT' || err.code === 'NOT_FOUND')) throw err;
      // The CA could not be asked: keep the order pending and try again later.
      const message = err instanceof Error ? err.message : String(err);
      const attempts = order.attempts + 1;
      const row = await setState(order, { error: { message, at: now.toISOString() }, attempts, next_poll_at: new Date(now.getTime() + pollDelayMs(attempts - 1)) }, null);
      return { status: 'unreachable', order: row, message };
    }
    if (outcome.status !== 'pending') return { status: outcome.status, order: outcome.order };
    const next = new Date(now.getTime() + pollDelayMs(outcome.order.attempts - 1));
    const row = await db.updateTable('orders').set({ next_poll_at: next, error: null }).where('id', '=', order.id).where('status', '=', 'pending').returningAll().executeTakeFirst();
    return { status: 'pending', order: row ?? outcome.order };
  }

  /**
   * Claims up to `batch` due orders, earliest first, by moving their next poll time a lease ahead
   * in the same statement: the partial index orders_poll (next_poll_at where pending) reads only
   * due rows, however many orders are pending; another instance running the job at the same time
   * skips the locked and claimed rows instead of polling them twice; and orders of a run that dies
   * are polled again when the lease ends. Each poll then sets the real next poll time.
   */
  async function claimDue(batch: number): Promise<OrderRow[]> {
    const now = clock.now();
    // A materialized CTE runs the locking select once. As `id in (select … limit n)` the planner
    // may rescan the subquery per row and claim more than n (seen on PostgreSQL 15 and PGlite).
    // The lock re-checks the CTE's conditions, so the update joins on the primary key alone.
    return db.with((cte) => cte('claimed').materialized(), (q) => q.selectFrom('orders').select('id').where('status', '=', 'pending')
      .where('ca_request_id', 'is not', null).where('next_poll_at', '<=', now).orderBy('next_poll_at').limit(batch).forUpdate().skipLocked())
      .updateTable('orders').set({ next_poll_at: new Date(now.getTime() + CLAIM_LEASE_MS) }).from('claimed')
      .whereRef('orders.id', '=', 'claimed.id').returningAll('orders').execute();
  }

  async function load(actor: Principal, id: string, ability: 'read' | 'issue'): Promise<OrderRow> {
    const order = await db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
    if (!order || !(await access.allows(actor, order.application_id, 'read'))) throw notFound('order', id);
    if (ability === 'issue' && !(await access.allows(actor, order.application_id, 'issue'))) throw new AppError('FORBIDDEN', 'you may not act on orders of this application');
    return order;
  }

  return {
    pollOne,
    /**
     * The job handler: polls every pending order whose next poll time has come, in claimed
     * batches (see claimDue) until none is left or the run's time budget is spent, a few polls
     * in flight at once (the per-server rate cap, not this, bounds what ADCS sees).
     */
    async runDue(options: { batch?: number; budgetMs?: number } = {}): Promise<{ polled: number; steps: PollStep[] }> {
      const batch = options.batch ?? POLL_BATCH;
      const deadline = performance.now() + (options.budgetMs ?? RUN_BUDGET_MS);
      const steps: PollStep[] = [];
      let polled = 0;
      for (;;) {
        const due = await claimDue(batch);
        polled += due.length;
        let next = 0;
        const worker = async () => {
          while (next < due.length) {
            const order = due[next++]!;
            try {
              steps.push(await pollOne(order, null));
            } catch (err) {
              if (!(err instanceof AppError && err.code === 'CONFLICT')) throw err;
            }
          }
        };
        await Promise.all(Array.from({ length: Math.min(POLL_CONCURRENCY, due.length) }, worker));
        if (due.length < batch || performance.now() >= deadline) return { polled, steps };
      }
    },
    /** `POST /orders/{id}/fetch`: ask the CA now. */
    async fetchNow(actor: Principal, id: string): Promise<PollStep> {
      const order = await load(actor, id, 'issue');
      if (order.status !== 'pending' || !order.ca_request_id) throw new AppError('CONFLICT', `order ${id} is ${order.status}, not waiting for the CA`, { status: order.status });
      return pollOne(order, actor);
    },
    /**
     * `DELETE /orders/{id}`: a pending order becomes `cancelled` and is no longer polled. Web
     * enrollment cannot withdraw a request, so it stays in the ADCS pending queue for a CA manager.
     */
    async cancel(actor: Principal, id: string): Promise<OrderRow> {
      const order = await load(actor, id, 'issue');
      if (order.status !== 'pending') throw new AppError('CONFLICT', `only a pending order can be cancelled; order ${id} is ${order.status}`, { status: order.status });
      return setState(order, { status: 'cancelled', next_poll_at: null, error: { message: `cancelled by ${actor.username}`, note: cancelNote(order.ca_request_id) } }, {
        actor, action: 'order.cancel', details: { caRequestId: order.ca_request_id },
      });
    },
  };
}

export type PendingOrders = ReturnType<typeof createPendingOrders>;
