import { sql } from 'kysely';

/**
 * A statement whose commit does not wait for PostgreSQL's WAL flush: `synchronous_commit` off
 * for that statement's own transaction (set_config's third argument, the same as SET LOCAL,
 * which a statement outside a transaction block has no other place for). The row is committed
 * and visible to every instance at once as usual; only a crash of PostgreSQL itself within about
 * three `wal_writer_delay`s (600 ms by default) can lose it. PostgreSQL flushes the WAL in order, so
 * the next synchronous commit on any connection makes it durable too.
 *
 * Only for writes whose loss a client recovers from on its own, and only on the pool: inside an
 * explicit transaction it would relax the whole transaction's commit. The flush costs 0.3 ms on a
 * quiet 2-core machine and more under load (bench/RESULTS.md, "Midday" and "Evening").
 */
const SET_ASYNC_COMMIT = `set_config('synchronous_commit', 'off', true)`;

/** As a one-row FROM item (cross joined, or an UPDATE's FROM): `… from <this> where …`. */
export const ASYNC_COMMIT_FROM = `(select ${SET_ASYNC_COMMIT}) as async_commit`;

/** As a RETURNING column named `commit_mode` (callers drop it from the row). */
export const asyncCommitColumn = sql<string>`${sql.raw(SET_ASYNC_COMMIT)}`.as('commit_mode');
