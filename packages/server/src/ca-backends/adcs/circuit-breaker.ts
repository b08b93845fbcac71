import { sql, type Kysely } from 'kysely';
import type { Clock } from '../../clock.ts';
import type { Database } from '../../db/schema.ts';

export interface BreakerOptions {
  /** Consecutive retryable failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses calls before one trial call is let through. */
  openMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = { failureThreshold: 3, openMs: 30_000 };

export type BreakerState = 'closed' | 'open' | 'half-open';

/** A server's breaker columns of `adcs_server_state` (absent row = never failed). */
export interface BreakerRow {
  failures: number;
  opened_at: Date | null;
  trial_at: Date | null;
}

export const CLOSED: BreakerRow = { failures: 0, opened_at: null, trial_at: null };

/** The state a row means at `now`: open for `openMs` after it opened, then half-open. */
export function breakerState(row: BreakerRow | undefined, now: Date, options: BreakerOptions): BreakerState {
  if (!row?.opened_at) return 'closed';
  return now.getTime() - row.opened_at.getTime() >= options.openMs ? 'half-open' : 'open';
}

/**
 * A circuit breaker per ADCS server, kept in `adcs_server_state` so every server instance on the
 * database sees the same circuit: after `failureThreshold` consecutive failures (counted across
 * instances) the server is skipped for `openMs`; then exactly one instance wins the trial call
 * (an atomic claim of `trial_at`), whose success closes and whose failure reopens the circuit.
 * A trial claim older than `openMs` is given up, so an instance that died mid-trial blocks nothing.
 * Reads ride along the query that lists a CA's servers; only changes of state write.
 */
export function createBreakers(db: Kysely<Database>, clock: Clock, options: BreakerOptions = DEFAULT_BREAKER) {
  const read = async (key: string): Promise<BreakerRow> =>
    (await db.selectFrom('adcs_server_state').select(['failures', 'opened_at', 'trial_at']).where('connection_id', '=', key).executeTakeFirst()) ?? CLOSED;

  return {
    options,
    stateOf: (row: BreakerRow | undefined): BreakerState => breakerState(row, clock.now(), options),
    async state(key: string): Promise<BreakerState> {
      return breakerState(await read(key), clock.now(), options);
    },
    /** True when a call may go to this server now; `row` is the state the caller already read. */
    async allow(key: string, row?: BreakerRow): Promise<boolean> {
      const now = clock.now();
      const st = breakerState(row ?? (await read(key)), now, options);
      if (st !== 'half-open') return st === 'closed';
      const stale = new Date(now.getTime() - options.openMs);
      const claimed = await db.updateTable('adcs_server_state').set({ trial_at: now })
        .where('connection_id', '=', key).where('opened_at', '<=', stale)
        .where((eb) => eb.or([eb('trial_at', 'is', null), eb('trial_at', '<=', stale)]))
        .returning('connection_id').executeTakeFirst();
      return claimed !== undefined;
    },
    /** Closes the circuit; skips the write when `row` shows nothing to clear. */
    async success(key: string, row?: BreakerRow): Promise<void> {
      if (row && row.failures === 0 && row.opened_at === null) return;
      await db.updateTable('adcs_server_state').set({ failures: 0, opened_at: null, trial_at: null })
        .where('connection_id', '=', key).where((eb) => eb.or([eb('failures', '>', 0), eb('opened_at', 'is not', null)])).execute();
    },
    /** Counts a failure; the threshold (or a failed trial) opens the circuit from now. */
    async failure(key: string): Promise<void> {
      const now = clock.now();
      await sql`
        insert into adcs_server_state as s (connection_id, failures, opened_at)
        values (${key}, 1, ${options.failureThreshold <= 1 ? now : null})
        on conflict (connection_id) do update set
          failures = s.failures + 1,
          trial_at = null,
          opened_at = case when s.failures + 1 >= ${options.failureThreshold} or s.opened_at is not null then ${now}::timestamptz else s.opened_at end`.execute(db);
    },
  };
}

export type Breakers = ReturnType<typeof createBreakers>;
