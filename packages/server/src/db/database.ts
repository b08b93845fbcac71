import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { migrations } from './migrations/index.ts';
import { PgliteDialect, SessionLock } from './pglite-dialect.ts';
import { createPgliteStatements } from './pglite-statements.ts';
import { PreparedStatementNames, prepareHotStatements } from './prepared-statements.ts';
import type { Database } from './schema.ts';
import { databaseUnavailable } from '../errors.ts';

/** The pg-boss `db` adapter shape (pg-boss 10 `constructor({ db })`). */
export interface BossDbAdapter {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

export interface DatabaseHandle {
  db: Kysely<Database>;
  engine: 'pglite' | 'postgres';
  /** What pg-boss should connect with: its own pool on PostgreSQL, the shared session on PGlite. */
  boss: { connectionString: string } | { db: BossDbAdapter };
  close(): Promise<void>;
}

/**
 * PGlite and the PostgreSQL contrib extensions the schema uses, which PGlite loads only when asked
 * (migration 0014). Imported only for the embedded engine: importing the module costs resident
 * memory a PostgreSQL deployment would carry for nothing (bench/memory.ts: idle 216 → 189 MB).
 */
async function loadPglite() {
  // PostgreSQL compiled to WebAssembly is a large module: V8's optimising tier (TurboFan) keeps ~50 MB
  // of extra machine code resident for good, while PGlite's work is dominated by copying and I/O, not
  // by the tight loops TurboFan speeds up. Baseline code only: bench/memory.ts, a bare PGlite idles
  // at 211 → 162 MB RSS; bench/issue-internal.ts on PGlite, server CPU per certificate 3.09 → 2.65 ms
  // (no compile threads). Lazily, too: a function is compiled when first called, and most of
  // PostgreSQL's functions never are in a server's life (bench/memory.ts, a bare PGlite: 142 → 128 MB).
  // Set before the first WebAssembly compilation; no other module in the process is WebAssembly.
  v8.setFlagsFromString('--liftoff-only');
  v8.setFlagsFromString('--wasm-lazy-compilation');
  const [{ PGlite, protocol, parse }, { pg_trgm }] = await Promise.all([import('@electric-sql/pglite'), import('@electric-sql/pglite/contrib/pg_trgm')]);
  return { PGlite, extensions: { pg_trgm }, lib: { protocol, parse } };
}

/**
 * `preparedStatements`: hot statements as named prepared statements, on both engines (default on:
 * db/prepared-statements.ts, db/pglite-statements.ts); `sharedBuffers` applies to PGlite only
 * (default {@link PGLITE_SHARED_BUFFERS}).
 */
type PgliteOptions = { sharedBuffers?: string; preparedStatements?: boolean };
export type DatabaseTarget = { url: string; preparedStatements?: boolean } | ({ dataDir: string } & PgliteOptions) | ({ memory: true } & PgliteOptions);

/**
 * PGlite's default shared_buffers is PostgreSQL's 128MB, and inside WebAssembly that buffer pool is
 * resident memory of the server process for good (WebAssembly memory never shrinks). 16MB holds the
 * hot pages of a typical embedded installation; the files themselves stay in the operating system's
 * page cache. bench/memory.ts: a restarted PGlite alone idles at 302 MB RSS with 128MB, 176 MB with 16MB.
 */
export const PGLITE_SHARED_BUFFERS = '16MB';

const exists = (file: string) => fs.access(file).then(() => true, () => false);

/**
 * Creates a new embedded cluster (PGlite's initdb) in a short-lived child process. In-process,
 * PGlite runs initdb in a second WebAssembly instance whose memory (200-400 MB) is garbage once the
 * cluster exists but stays resident until V8's next major GC, which an idle server may not run for
 * hours (bench/memory.ts: first start idled at 340-736 MB, a restart at 265 MB). A child's memory
 * goes back to the system when it exits. Costs one Node start, once per data directory.
 */
async function createClusterInChildProcess(dir: string, startParams: string[]): Promise<void> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const script = `require(${JSON.stringify(entry)}).PGlite.create(process.argv[1], { startParams: JSON.parse(process.argv[2]) })
    .then((db) => db.close(), (err) => { process.stderr.write(String(err && err.message || err)); process.exitCode = 1; });`;
  const stderr: Buffer[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ['--liftoff-only', '-e', script, dir, JSON.stringify(startParams)], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject).on('exit', resolve);
  });
  if (code !== 0) throw new Error(`creating the embedded database in ${dir} failed (exit ${code}): ${Buffer.concat(stderr).toString().trim().slice(0, 500)}`);
}

/** Opens PostgreSQL (`url`) or the embedded PGlite (on disk under `dataDir`, or in memory for tests). */
export async function openDatabase(target: DatabaseTarget): Promise<DatabaseHandle> {
  if ('url' in target) {
    const pool = new pg.Pool({ connectionString: target.url, max: 10 });
    // An idle client losing its connection (e.g. PostgreSQL restarted) must not crash the process:
    // the pool drops that client and the next query opens a new connection.
    pool.on('error', (err) => process.emitWarning(`PostgreSQL connection lost: ${err.message}`));
    // The pool only listens on idle clients. A checked-out client between two statements (e.g.
    // inside a transaction) that gets 57P01 on a PostgreSQL restart emits 'error' with no listener,
    // which killed the process (reliability-pg-restart.test.ts); its next query fails instead, and
    // the pool discards it on release.
    const names = target.preparedStatements === false ? undefined : new PreparedStatementNames();
    pool.on('connect', (client) => {
      client.on('error', (err) => process.emitWarning(`PostgreSQL connection lost: ${err.message}`));
      if (names) prepareHotStatements(client, names);
    });
    // A refused or failed new connection is an outage, not a bug: the API answers 503 with Retry-After.
    const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
    pool.connect = (async () => {
      try {
        return await connect();
      } catch (err) {
        throw databaseUnavailable(err);
      }
    }) as typeof pool.connect;
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, engine: 'postgres', boss: { connectionString: target.url }, close: () => db.destroy() };
  }
  const { PGlite, extensions, lib } = await loadPglite();
  const options = { extensions, startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${target.sharedBuffers ?? PGLITE_SHARED_BUFFERS}`] };
  let pglite: PGlite;
  if ('dataDir' in target) {
    const dir = path.join(target.dataDir, 'pgdata');
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    if (!(await exists(path.join(dir, 'PG_VERSION')))) await createClusterInChildProcess(dir, options.startParams);
    pglite = await PGlite.create(dir, options);
  } else {
    pglite = await PGlite.create(options);
  }
  const lock = new SessionLock();
  // Kysely and pg-boss share the session, and its hot statements are prepared (pglite-statements.ts).
  const run = createPgliteStatements(pglite, lib, target.preparedStatements === false ? undefined : new PreparedStatementNames());
  const db = new Kysely<Database>({ dialect: new PgliteDialect(run, lock) });
  let closed = false;
  const CLOSED = Symbol('closed');
  const adapter: BossDbAdapter = {
    // pg-boss sends multi-statement scripts without parameters (migrations, schema creation):
    // those need PGlite's simple-query `exec`; everything parameterised goes through `query`.
    // The server stops pg-boss without waiting for running jobs (a connector job can wait
    // minutes), so a job that ends after the database closed still reports its outcome, and
    // pg-boss neither awaits nor catches that call (its work loop's complete/fail): a rejection
    // would be unhandled and an empty answer crashes its result mapping. So such a write is left
    // unanswered, as a crash would leave it: the job stays active and pg-boss retries it once it
    // expires, after the next start. The session lock is released either way.
    executeSql: async (text, values) => {
      const answer = closed ? CLOSED : await lock.run(async () => {
        if (closed) return CLOSED;
        if (values && values.length > 0) return run(text, values);
        const results = await pglite.exec(text);
        return { rows: results.at(-1)?.rows ?? [] };
      });
      return answer === CLOSED ? new Promise<never>(() => {}) : answer;
    },
  };
  return {
    db,
    engine: 'pglite',
    boss: { db: adapter },
    close: async () => {
      closed = true;
      await db.destroy();
      await pglite.close();
    },
  };
}

/** Applies pending migrations; safe to run concurrently from two processes on PostgreSQL. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'certbridge_migrations',
    migrationLockTableName: 'certbridge_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** True when the database answers and every known migration is applied (`/readyz`). */
export async function isReady(db: Kysely<Database>): Promise<boolean> {
  const applied = await sql<{ n: number }>`select count(*)::int as n from certbridge_migrations`.execute(db);
  return applied.rows[0]?.n === Object.keys(migrations).length;
}
