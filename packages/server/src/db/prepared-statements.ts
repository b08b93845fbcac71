import { createHash } from 'node:crypto';
import type pg from 'pg';

/** Uses of one statement text before it is prepared: one-off texts (migrations, ad-hoc lists) never are. */
const PREPARE_AFTER_USES = 3;
/** Named statements per process (and so per connection at most): a bound on PostgreSQL's memory per backend. */
const MAX_PREPARED = 300;
/** Distinct texts counted before counting stops: texts that vary (IN lists of every length) cannot grow it without end. */
const MAX_COUNTED = 5000;

/** A semicolon before the end of the text (possibly inside a literal: such a text is merely never named). */
const SEVERAL_STATEMENTS = /;\s*\S/;

/**
 * Which statement texts this process sends as named prepared statements on PostgreSQL.
 *
 * PostgreSQL parses, analyses and plans an unnamed statement on every execution. For the short
 * statements of a request (token lookup, the order write, the issued write with its audit row)
 * that is a large part of the database's work and of the wait: bench/adcs.ts measured 0.26-0.3 ms
 * of parse and plan in each of three statements of one ADCS issuance. A named statement is parsed
 * once per connection; PostgreSQL then plans it per execution or reuses a generic plan when that
 * is no worse (plan_cache_mode auto), and replans by itself after a schema change.
 *
 * "No worse" is judged on estimates: PostgreSQL plans a named statement with its values five times,
 * then keeps planning it per execution whenever a plan that sees the values looks cheaper than
 * the generic one. A statement over `unnest` of an array parameter always does (one element
 * estimates cheaper than the generic ten), and so does a comparison with a time the statistics
 * place at the end of a range. The hot statements of that shape therefore read such parameters
 * through `(select $n::type)`: an initplan, whose value no plan sees, so both plans estimate
 * alike and the generic one wins. pg_stat_statements over bench/acme.ts: the nonce statement was
 * planned on all 535 executions (0.75 ms each), newOrder's on all 320 (0.65 ms), the token lookup
 * on every request; each is now planned at most five times per connection.
 * (`plan_cache_mode = force_generic_plan` for the session instead made the inventory search with
 * a common term 9× slower at 1,000,000 certificates: its unnamed statements must see their values.)
 * test/generic-plans.test.ts checks that each of these statements reaches a generic plan.
 *
 * The texts come from the query builder, and some vary (an IN list per length), so only texts
 * seen {@link PREPARE_AFTER_USES} times are named, up to {@link MAX_PREPARED}; the rest stay unnamed.
 * pg keeps each connection's prepared names and prepares a name on a connection at its first use.
 */
export class PreparedStatementNames {
  private readonly uses = new Map<string, number>();
  private readonly names = new Map<string, string | null>();

  /** The name to send `text` under, or undefined to send it unnamed. */
  nameFor(text: string): string | undefined {
    // Several statements in one text run only through the simple protocol, which has no names.
    if (SEVERAL_STATEMENTS.test(text)) return undefined;
    const known = this.names.get(text);
    if (known !== undefined) return known ?? undefined;
    if (this.names.size >= MAX_PREPARED) return undefined;
    const uses = (this.uses.get(text) ?? 0) + 1;
    if (uses < PREPARE_AFTER_USES) {
      if (this.uses.size < MAX_COUNTED || this.uses.has(text)) this.uses.set(text, uses);
      return undefined;
    }
    this.uses.delete(text);
    const name = `cb_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    this.names.set(text, name);
    return name;
  }

  /**
   * Sends `text` unnamed from now on. For "cached plan must not change result type": another
   * instance changed a table under a prepared `select` (a migration during a rolling upgrade).
   */
  retire(text: string): void {
    this.names.set(text, null);
  }

  get preparedCount(): number {
    let n = 0;
    for (const name of this.names.values()) if (name) n++;
    return n;
  }
}

/** SQLSTATE 0A000 with this message: a prepared statement's result columns changed. */
export const isStalePlan = (err: unknown) => (err as { code?: string }).code === '0A000' && /cached plan must not change result type/.test(String((err as Error).message));

/**
 * Makes `client.query(text, values)` (the call Kysely's PostgreSQL driver makes) send hot texts as
 * named statements. Other call shapes (config objects, callbacks, cursors) pass through unchanged.
 */
export function prepareHotStatements(client: pg.PoolClient, names: PreparedStatementNames): void {
  // The class's method, looked up at each call: instrumentation that wraps pg's Client.prototype.query
  // after this connection opened (tracing, the benches' statement counters) still sees every call.
  const query = (...args: unknown[]) => (Object.getPrototypeOf(client) as { query: (...a: unknown[]) => unknown }).query.apply(client, args);
  const named = (text: string, values: unknown, ...rest: unknown[]) => {
    const name = rest.length === 0 && (values === undefined || Array.isArray(values)) ? names.nameFor(text) : undefined;
    if (!name) return query(text, values, ...rest);
    return (query({ name, text, values }) as Promise<pg.QueryResult>).catch((err: unknown) => {
      if (isStalePlan(err)) names.retire(text);
      throw err;
    });
  };
  client.query = ((first: unknown, ...rest: unknown[]) => (typeof first === 'string' ? named(first, ...(rest as [unknown])) : query(first, ...rest))) as typeof client.query;
}
