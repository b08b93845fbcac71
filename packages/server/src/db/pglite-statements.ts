import type { PGlite, Results, parse as pgliteParse, protocol as pgliteProtocol } from '@electric-sql/pglite';
import { isStalePlan, type PreparedStatementNames } from './prepared-statements.ts';

/** The parts of the PGlite module this needs (the module itself is imported lazily, see database.ts). */
export interface PgliteProtocolLib {
  protocol: typeof pgliteProtocol;
  parse: typeof pgliteParse;
}

export type PgliteRun = <R>(text: string, values?: readonly unknown[]) => Promise<Results<R>>;

/**
 * Statements on the embedded database, hot ones as named prepared statements.
 *
 * PGlite's `query` sends every statement unnamed, as six separate trips into PostgreSQL
 * (Parse, Describe, Bind, Describe, Execute, Sync), so PostgreSQL parses, analyses and plans it on
 * every execution, in WebAssembly. PGlite offers no named statements, so this speaks the protocol
 * itself for the texts PreparedStatementNames picks (the same choice as on PostgreSQL, see
 * prepared-statements.ts): Parse and Describe once per text, then Bind, Describe, Execute and Sync
 * in one message buffer per execution, with PGlite's own parameter serializers and result parser.
 * bench/acme.ts (`BENCH_ENGINES=pglite,pglite/unprepared,…`, pairs in one run): 27-30% less server
 * CPU per ACME order, 1.28-1.44× the orders per second; a claim-style CTE alone ran 2.2-2.9× faster.
 *
 * The caller serialises use of the session (SessionLock); the protocol exchange also runs under
 * PGlite's own query mutex, as `query` does. Without `names` every statement goes through `query`
 * (CERTBRIDGE_PG_PREPARED_STATEMENTS=off, the benches' baseline).
 */
export function createPgliteStatements(pglite: PGlite, lib: PgliteProtocolLib, names: PreparedStatementNames | undefined): PgliteRun {
  const { serialize } = lib.protocol;
  /** Parameter type ids of each statement prepared in this session, by name. */
  const prepared = new Map<string, number[]>();

  async function prepare(name: string, text: string): Promise<number[]> {
    // Parse and Describe then Sync in one buffer: on a bad text PostgreSQL reports the error,
    // skips to the Sync and is ready again; nothing is kept under the name.
    const messages = await pglite.execProtocolStream(concat([serialize.parse({ name, text }), serialize.describe({ type: 'S', name }), serialize.sync()]), { syncToFs: false });
    const types = lib.parse.parseDescribeStatementResults(messages);
    prepared.set(name, types);
    return types;
  }

  async function runNamed<R>(name: string, text: string, values: readonly unknown[]): Promise<Results<R>> {
    return pglite.runExclusive(async () => {
      const types = prepared.get(name) ?? (await prepare(name, text));
      const serialized = values.map((value, i) => {
        if (value === null || value === undefined) return null;
        const serializer = pglite.serializers[types[i]!];
        return serializer ? serializer(value) : String(value);
      });
      // An error skips the rest up to the Sync, which leaves the session ready for the next statement.
      const messages = await pglite.execProtocolStream(
        concat([serialize.bind({ statement: name, values: serialized as string[] }), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()]),
        { syncToFs: false },
      );
      // What `query` does after each statement outside its own transaction helper.
      await pglite.syncToFs();
      return lib.parse.parseResults(messages, pglite.parsers)[0] as Results<R>;
    });
  }

  return async <R>(text: string, values: readonly unknown[] = []): Promise<Results<R>> => {
    // Texts without parameters (transaction control, VACUUM, DDL) gain nothing worth the risk and stay unnamed.
    const name = names && values.length > 0 ? names.nameFor(text) : undefined;
    if (!names || !name) return pglite.query<R>(text, [...values]);
    try {
      return await runNamed<R>(name, text, values);
    } catch (err) {
      // A statement whose result columns changed under it (a migration) runs unnamed from now on.
      if (isStalePlan(err)) names.retire(text);
      throw err;
    }
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
