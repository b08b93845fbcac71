import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from './schema.ts';

/**
 * Autovacuum's work for the embedded engine. PGlite runs PostgreSQL as a single backend with no
 * autovacuum launcher, so nothing would ever vacuum or analyse Certbridge's embedded database:
 * - only VACUUM makes the space of deleted and updated rows reusable, so tables that churn (ACME
 *   nonces inserted and deleted on every request, orders, challenges and pg-boss jobs updated in
 *   place) would grow for as long as the server runs (100,000 nonces inserted and deleted left
 *   7.6 MB of heap behind, and VACUUM truncated it to nothing);
 * - the planner would keep judging every table by the statistics of an empty one, which is how a
 *   join order that reads a whole table can look cheapest (enrollment/acme/new-order-statement.ts);
 * - transaction ids would age towards wraparound with no freezing.
 * A PostgreSQL server runs its own autovacuum (as its administrator configured it), so this runs
 * for PGlite only (server.ts).
 *
 * The decisions are autovacuum's, with its default settings, from the same counters
 * (pg_stat_user_tables; PGlite's single backend publishes them only when asked to flush).
 */
const VACUUM_THRESHOLD = 50;
const VACUUM_SCALE = 0.2;
const INSERT_VACUUM_THRESHOLD = 1000;
const INSERT_VACUUM_SCALE = 0.2;
const ANALYZE_THRESHOLD = 50;
const ANALYZE_SCALE = 0.1;
/** vacuum_freeze_table_age's default: a table this old (in transactions) is frozen whatever its churn. */
const FREEZE_AGE = 150_000_000;
/** autovacuum_naptime's default. */
export const MAINTENANCE_INTERVAL_MS = 60_000;

interface TableCounters {
  schema: string; name: string; reltuples: number; dead: number; modified: number; inserted: number; xid_age: number;
}

export interface MaintenancePass {
  /** `schema.table` names vacuumed (with analyse when due too), then those only analysed. */
  vacuumed: string[];
  analyzed: string[];
}

/** What autovacuum would do to one table now: vacuum it (freezing when it is old), analyse it, or both. */
export function maintenanceFor(t: TableCounters): { vacuum: boolean; freeze: boolean; analyze: boolean } {
  const tuples = Math.max(0, t.reltuples);
  const freeze = t.xid_age > FREEZE_AGE;
  return {
    vacuum: freeze || t.dead > VACUUM_THRESHOLD + VACUUM_SCALE * tuples || t.inserted > INSERT_VACUUM_THRESHOLD + INSERT_VACUUM_SCALE * tuples,
    freeze,
    analyze: t.modified > ANALYZE_THRESHOLD + ANALYZE_SCALE * tuples,
  };
}

const quoted = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

/** One pass: reads every user table's counters and vacuums or analyses the ones whose turn it is. */
export async function maintainOnce(db: Kysely<Database>): Promise<MaintenancePass> {
  // The counters of this backend's own work reach pg_stat_user_tables when it next goes idle.
  await sql`select pg_stat_force_next_flush()`.execute(db);
  const { rows } = await sql<TableCounters>`
    select s.schemaname as schema, s.relname as name, c.reltuples::float8 as reltuples, s.n_dead_tup::float8 as dead,
      s.n_mod_since_analyze::float8 as modified, s.n_ins_since_vacuum::float8 as inserted, age(c.relfrozenxid)::float8 as xid_age
    from pg_stat_user_tables s join pg_class c on c.oid = s.relid
    order by s.schemaname, s.relname`.execute(db);
  const pass: MaintenancePass = { vacuumed: [], analyzed: [] };
  for (const table of rows) {
    const work = maintenanceFor(table);
    const target = `${quoted(table.schema)}.${quoted(table.name)}`;
    const options = [...(work.freeze ? ['freeze'] : []), ...(work.analyze ? ['analyze'] : [])];
    // VACUUM runs outside any transaction; each table is its own statement, so requests queue
    // behind one table at a time, never behind the whole database.
    if (work.vacuum) await sql.raw(`vacuum ${options.length ? `(${options.join(', ')}) ` : ''}${target}`).execute(db);
    else if (work.analyze) await sql.raw(`analyze ${target}`).execute(db);
    else continue;
    (work.vacuum ? pass.vacuumed : pass.analyzed).push(`${table.schema}.${table.name}`);
  }
  return pass;
}

/**
 * Runs {@link maintainOnce} every `intervalMs` until stopped; a failed pass is logged and the next
 * one runs on time. `stop` waits for a pass under way (the database must not close under it).
 */
export function startPgliteMaintenance(db: Kysely<Database>, log: Pick<Logger, 'info' | 'warn'>, intervalMs = MAINTENANCE_INTERVAL_MS) {
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return;
    const started = Date.now();
    running = maintainOnce(db)
      .then((pass) => {
        if (pass.vacuumed.length || pass.analyzed.length) log.info({ ...pass, ms: Date.now() - started }, 'embedded database maintenance');
      })
      .catch((err: unknown) => log.warn({ err }, 'embedded database maintenance failed'))
      .finally(() => { running = undefined; });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    async stop(): Promise<void> {
      clearInterval(timer);
      await running;
    },
  };
}
