import { sql, type Kysely } from 'kysely';
import type { Database, OrderRow } from '../db/schema.ts';

/** How often the one watcher of a process asks the database, while anybody listens. */
export const ORDER_FEED_INTERVAL_MS = 1000;
/** New orders of one application read in one tick; more than that and listeners reload their lists anyway. */
const NEW_ORDERS_PER_APP = 100;

export type OrderListener = (orders: OrderRow[]) => void;

interface Newest { id: string; createdAt: Date }

/**
 * The change feed of orders behind `GET /api/v1/orders/events`. Several server instances share
 * one database and any of them (or a background poll) may change an order, so changes are read
 * from the database, not from in-process events: one watcher per process, running only while it
 * has listeners, each tick asking two cheap questions instead of every browser tab polling a list.
 *
 * - New orders: the newest order of each application (one probe of the `orders_app_created`
 *   index per application); where it moved, the orders after the previous newest.
 * - Pending orders changing (attempts, disposition, issued, denied, cancelled): the count and
 *   latest update of the pending set (the `orders_poll` partial index); only when those move is the
 *   set itself read and diffed, and the orders that changed or left it are read by id.
 *
 * Orders never change once terminal, so these two cover every change the Orders page shows. The
 * first tick only records where things stand. No trigger and no LISTEN/NOTIFY: the same code runs
 * on PGlite and PostgreSQL without a migration.
 */
export function createOrderFeed(deps: { db: Kysely<Database>; intervalMs?: number }) {
  const { db } = deps;
  const intervalMs = deps.intervalMs ?? ORDER_FEED_INTERVAL_MS;
  const listeners = new Set<OrderListener>();
  const errorHandlers = new Set<(err: unknown) => void>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let newest: Map<string, Newest> | undefined;
  let pending: Map<string, number> | undefined;
  let pendingSummary = '';

  async function newestPerApplication(): Promise<Map<string, Newest>> {
    const rows = await sql<{ application_id: string; id: string; created_at: Date }>`
      select a.id as application_id, o.id, o.created_at from applications a
      cross join lateral (select id, created_at from orders where application_id = a.id order by created_at desc, id desc limit 1) o`.execute(db);
    return new Map(rows.rows.map((r) => [r.application_id, { id: r.id, createdAt: new Date(r.created_at) }]));
  }

  /** Ids of orders created since the last tick, application by application (keyset on the index). */
  async function newOrderIds(now: Map<string, Newest>): Promise<string[]> {
    const ids: string[] = [];
    for (const [app, latest] of now) {
      const before = newest!.get(app);
      if (before?.id === latest.id) continue;
      let q = db.selectFrom('orders').select('id').where('application_id', '=', app).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(NEW_ORDERS_PER_APP);
      if (before) q = q.where(sql<boolean>`(created_at, id) > (${before.createdAt}, ${before.id}::uuid)`);
      ids.push(...(await q.execute()).map((r) => r.id));
    }
    return ids;
  }

  /** Ids of pending orders that changed, appeared or left the pending state since the last tick. */
  async function pendingChanges(): Promise<string[]> {
    const summary = await db.selectFrom('orders').select((eb) => [eb.fn.countAll<string>().as('n'), eb.fn.max('updated_at').as('latest')])
      .where('status', '=', 'pending').executeTakeFirstOrThrow();
    const key = `${summary.n}/${summary.latest ? new Date(summary.latest).getTime() : ''}`;
    if (pending && key === pendingSummary) return [];
    const rows = await db.selectFrom('orders').select(['id', 'updated_at']).where('status', '=', 'pending').execute();
    const now = new Map(rows.map((r) => [r.id, new Date(r.updated_at).getTime()]));
    const changed = pending ? [...now].filter(([id, at]) => pending!.get(id) !== at).map(([id]) => id) : [];
    if (pending) for (const id of pending.keys()) if (!now.has(id)) changed.push(id);
    pending = now;
    pendingSummary = key;
    return changed;
  }

  async function tick(): Promise<void> {
    const apps = await newestPerApplication();
    const created = newest ? await newOrderIds(apps) : [];
    newest = apps;
    const ids = [...new Set([...created, ...(await pendingChanges())])];
    if (ids.length === 0 || listeners.size === 0) return;
    const orders = await db.selectFrom('orders').selectAll().where('id', 'in', ids).orderBy('created_at', 'desc').execute();
    for (const listener of [...listeners]) listener(orders);
  }

  function schedule(): void {
    if (listeners.size === 0 || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      running = tick().catch((err: unknown) => { for (const h of errorHandlers) h(err); }).finally(() => { running = undefined; schedule(); });
    }, intervalMs);
    timer.unref();
  }

  /** Forgets the baseline when nobody listens: changes in between are not owed to anyone. */
  function reset(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    newest = undefined;
    pending = undefined;
    pendingSummary = '';
  }

  return {
    /**
     * Calls the listener with the orders that changed in each tick (all of them: the caller
     * filters by what its user may see). Resolves once the baseline is taken, so a change made
     * after it is reported. Returns the unsubscribe function.
     */
    async subscribe(listener: OrderListener): Promise<() => void> {
      const first = listeners.size === 0;
      listeners.add(listener);
      if (running) await running.catch(() => undefined);
      if (first || !newest) {
        // A tick that was under way when the last listener left may have stored a baseline since: start afresh.
        reset();
        running = tick().finally(() => { running = undefined; });
        await running.catch((err: unknown) => { listeners.delete(listener); throw err; });
      }
      schedule();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) reset();
      };
    },
    /** A failed tick is retried at the next one; handlers (the HTTP layer's logger) hear about it. */
    onError: (handler: (err: unknown) => void): void => void errorHandlers.add(handler),
    listenerCount: (): number => listeners.size,
  };
}

export type OrderFeed = ReturnType<typeof createOrderFeed>;
