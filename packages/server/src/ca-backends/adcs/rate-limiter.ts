import { sql, type Kysely, type RawBuilder } from 'kysely';
import { ASYNC_COMMIT_FROM } from '../../db/async-commit.ts';
import type { Database } from '../../db/schema.ts';
import type { Sleep } from './pending-schedule.ts';

/** A bucket's tokens as of this statement: the stored ones plus the refill since, at most the cap. */
const refill = (perSecond: number) => sql<number>`least(${perSecond}::float8, coalesce(s.tokens, ${perSecond}::float8)
  + greatest(0, extract(epoch from statement_timestamp() - coalesce(s.tokens_at, statement_timestamp())))::float8 * ${perSecond}::float8)`;

/**
 * One token taken by one atomic upsert; a row comes back when it was granted. `source` is where
 * the first token of a new bucket is inserted from (a one-row relation).
 */
const grant = (key: string, perSecond: number, source: RawBuilder<unknown>) => sql<{ tokens: number }>`
  insert into adcs_server_state as s (connection_id, tokens, tokens_at)
  select ${key}, ${perSecond - 1}::float8, statement_timestamp() ${source}
  on conflict (connection_id) do update set tokens = ${refill(perSecond)} - 1, tokens_at = statement_timestamp()
  where ${refill(perSecond)} >= 1
  returning tokens`;

/**
 * The per-server request-rate cap that protects ADCS: a token bucket (capacity and refill rate =
 * the cap per second) kept in `adcs_server_state`, so server instances sharing the database share
 * one cap instead of each sending the full rate. A token is taken by one atomic upsert, refilled
 * from the database clock (instances' clocks may differ; the database's is the one they share).
 * Within a process, callers queue per server in arrival order and only the head of the queue
 * asks the database, so waiting callers do not poll it.
 */
export function createRateLimiter(db: Kysely<Database>, sleep: Sleep) {
  const tails = new Map<string, Promise<void>>();

  /** Takes a token: 0 when granted, else the milliseconds until one is due. */
  async function take(key: string, perSecond: number): Promise<number> {
    // Committed asynchronously (synchronous_commit off for this statement's transaction only): the
    // row is visible to every instance at once as usual, only its WAL flush is not waited for. A
    // token is not worth an fsync on every issuance: a crash can at worst forget the last few
    // takes, leaving the bucket a little fuller for the first second after the restart.
    const granted = await grant(key, perSecond, sql`from ${sql.raw(ASYNC_COMMIT_FROM)}`).execute(db);
    if (granted.rows.length > 0) return 0;
    const now = await sql<{ tokens: number }>`select ${refill(perSecond)} as tokens from adcs_server_state s where connection_id = ${key}`.execute(db);
    const tokens = Number(now.rows[0]?.tokens ?? 0);
    return Math.max(1, Math.ceil(((1 - tokens) / perSecond) * 1000));
  }

  return {
    /**
     * Waits for a token of server `key`. `first`, when given, is the outcome of a take already
     * sent (`takeStatement`, true when granted): it counts as this caller's first try.
     */
    async acquire(key: string, perSecond: number, first?: Promise<boolean>): Promise<void> {
      const turn = (tails.get(key) ?? Promise.resolve()).then(async () => {
        let wait = first && (await first) ? 0 : await take(key, perSecond);
        for (; wait > 0; wait = await take(key, perSecond)) await sleep(wait);
      });
      // The queue continues after a failed turn (a database error fails only its own caller).
      const tail = turn.catch(() => undefined);
      tails.set(key, tail);
      void tail.then(() => { if (tails.get(key) === tail) tails.delete(key); });
      await turn;
    },
    /** True when no caller of this process is waiting for or taking a token of server `key`. */
    idle: (key: string): boolean => !tails.has(key),
    /**
     * The take as a statement to run inside another write (the order's: CaBackend.issueWhileRecording),
     * saving its round trip; it returns a row when the token was granted. Unlike `take` it leaves
     * the commit as it is: that transaction's commit must stay durable. A server deleted meanwhile
     * grants nothing here instead of failing the write it rides in (the caller's own take then
     * reports it). Pass the outcome to `acquire` as `first`, in the same turn, while `idle`.
     */
    takeStatement: (key: string, perSecond: number): RawBuilder<{ tokens: number }> =>
      grant(key, perSecond, sql`where exists (select 1 from connections where id = ${key})`),
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
