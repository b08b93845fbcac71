/**
 * REST issuance on the internal CA (issue 2 "Speed"): N concurrent
 * `POST /api/v1/applications/default/certificates` with pre-generated EC P-256 CSRs, through the
 * real server process (`certbridge serve`, HTTP listener, keep-alive), each certificate stored,
 * on PGlite and on PostgreSQL. Compared with the bare ceiling measured in this same run: CSR
 * parse + signature verify + certificate sign with @certbridge/pki, no HTTP, no database.
 *
 * Also per certificate, over the timed phase: SQL statements and transactions sent by the server
 * (lib/sql-counter.ts), PostgreSQL commits (pg_stat_database), server CPU ms and its ratio to the
 * ceiling's CPU ms; README.md says what one issuance cost before and after issue 2's speed work.
 * And where all of the machine's CPU went (lib/machine-cpu.ts): the server, this process as the
 * load generator, PostgreSQL, the whole machine, and the rate the cores would allow at that cost.
 *
 * Environment: BENCH_N (requests per engine, default 3000), BENCH_CONCURRENCY (default 48),
 * BENCH_MAX_SECONDS (per engine, default 60), BENCH_ENGINES (default "pglite,postgres,postgres:2";
 * postgres:N = N worker processes, CERTBRIDGE_WORKERS),
 * BENCH_LOG_LEVEL (server log level, default warn), BENCH_CPU_PROF (directory: write the
 * server's CPU profile there), TEST_DATABASE_URL (PostgreSQL server; a fresh database is made).
 */
import http from 'node:http';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { buildCsr, generateKeyPair, parseDn, pemEncode } from '@certbridge/pki';
import { bareCeiling, bareCeilingOnAllCores, type CeilingRun } from './lib/bare-ceiling.ts';
import { cpuPerUnit, cpuSample } from './lib/machine-cpu.ts';
import { freshPostgres, startServerProcess } from './lib/server-process.ts';
import { counterOptions, removeSnapshots, snapshot } from './lib/sql-snapshot.ts';
import { percentile, table } from './lib/stats.ts';

const N = Number(process.env['BENCH_N'] ?? 3000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 48);
const MAX_SECONDS = Number(process.env['BENCH_MAX_SECONDS'] ?? 60);
const ENGINES = (process.env['BENCH_ENGINES'] ?? 'pglite,postgres,postgres:2').split(',').map((e) => e.trim()).filter(Boolean);
const PG_BASE = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const WARMUP = 200;
const TARGET = 5000;

interface Result { name: string; ok: number; errors: number; seconds: number; latenciesMs: number[]; firstError?: string; perIssuance?: PerIssuance }
/** Load-independent costs of one issuance in the server process, over the timed phase. */
interface PerIssuance { statements: number; transactions: number; cpuMs: number; pgCommits?: number; machine?: ReturnType<typeof cpuPerUnit> }

/** Committed transactions of the bench database as PostgreSQL counts them (every autocommit statement is one). */
async function pgCommits(url: string): Promise<number> {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('select pg_stat_clear_snapshot()');
    const r = await c.query<{ n: string }>('select xact_commit::text as n from pg_stat_database where datname = current_database()');
    return Number(r.rows[0]?.n ?? 0);
  } finally {
    await c.end();
  }
}

function makeCsrs(count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const pair = generateKeyPair('EC-P256');
    const cn = `bench-${i}.example.test`;
    out.push(pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn(`CN=${cn}`), sans: [{ type: 'dns', value: cn }], privateKey: pair.privateKey, publicKey: pair.publicKey })));
  }
  return out;
}

function post(agent: http.Agent, url: URL, token: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** `CONCURRENCY` keep-alive connections, each sending its next request as soon as the last one answers. */
async function load(name: string, baseUrl: string, token: string, bodies: string[], deadline: number): Promise<Result> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const url = new URL('/api/v1/applications/default/certificates', baseUrl);
  const latenciesMs: number[] = [];
  let next = 0, ok = 0, errors = 0, firstError: string | undefined;
  const start = performance.now();
  const worker = async () => {
    while (next < bodies.length && performance.now() < deadline) {
      const body = bodies[next++]!;
      const t0 = performance.now();
      try {
        const res = await post(agent, url, token, body);
        if (res.status === 201) ok++, latenciesMs.push(performance.now() - t0);
        else errors++, (firstError ??= `${res.status} ${res.body.slice(0, 200)}`);
      } catch (err) {
        errors++, (firstError ??= String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return { name, ok, errors, seconds, latenciesMs, ...(firstError ? { firstError } : {}) };
}

/** `engine` is `pglite`, `postgres`, or `postgres:N` for N worker processes (CERTBRIDGE_WORKERS). */
async function runEngine(engine: string, bodies: string[]): Promise<Result> {
  const [kind, workersText] = engine.split(':');
  const workers = Number(workersText ?? 1);
  const pgdb = kind === 'postgres' ? await freshPostgres(PG_BASE) : undefined;
  const counter = counterOptions(`${kind}-${workers}`);
  const counterFile = counter.file;
  const server = await startServerProcess({
    ...(pgdb ? { databaseUrl: pgdb.url } : {}), logLevel: process.env['BENCH_LOG_LEVEL'] ?? 'warn',
    ...(process.env['BENCH_CPU_PROF'] ? { cpuProfileDir: process.env['BENCH_CPU_PROF'] } : {}),
    preload: counter.preload, env: { ...counter.env, CERTBRIDGE_WORKERS: String(workers) },
  });
  const processes = workers > 1 ? workers + 1 : 1;
  const label = workers > 1 ? `${kind}, ${workers} workers` : kind;
  try {
    const warm = await load(`${label} warm-up`, server.httpUrl, server.token, bodies.slice(0, WARMUP), Infinity);
    if (warm.errors) throw new Error(`warm-up failed on ${label}: ${warm.firstError}`);
    const before = await snapshot(server.pid, counterFile, processes);
    const commitsBefore = pgdb ? await pgCommits(pgdb.url) : 0;
    const cpuBefore = cpuSample();
    const result = await load(`REST on ${label}`, server.httpUrl, server.token, bodies.slice(WARMUP), performance.now() + MAX_SECONDS * 1000);
    const sampled = cpuPerUnit(cpuBefore, cpuSample(), result.ok);
    const machine = pgdb ? sampled : { ...sampled, databaseMs: undefined }; // PGlite runs inside the server
    const after = await snapshot(server.pid, counterFile, processes);
    // Three statements per snapshot belong to pgCommits itself (connect, clear, select): not the server's, and on its own connection.
    // PostgreSQL (15+) backends publish their counters when idle, at most once a second: wait for that.
    if (pgdb) await new Promise((resolve) => setTimeout(resolve, 1500));
    const commits = pgdb ? (await pgCommits(pgdb.url)) - commitsBefore - 2 : undefined;
    const n = Math.max(1, result.ok);
    result.perIssuance = {
      statements: (after.statements - before.statements) / n, transactions: (after.transactions - before.transactions) / n,
      cpuMs: (after.cpuUserUs + after.cpuSystemUs - before.cpuUserUs - before.cpuSystemUs) / 1000 / n,
      ...(commits !== undefined ? { pgCommits: commits / n } : {}), machine,
    };
    return result;
  } finally {
    await removeSnapshots(counterFile);
    await server.stop();
    await pgdb?.drop();
  }
}

const loadAtStart = os.loadavg()[0]!.toFixed(1);
const csrs = makeCsrs(N + WARMUP);
const bodies = csrs.map((csr) => JSON.stringify({ profile: 'default-tls', csr }));
const asResult = (c: CeilingRun): Result => ({ ...c, errors: 0, perIssuance: { statements: 0, transactions: 0, cpuMs: c.cpuMs } });
const ceilingCsrs = csrs.slice(0, Math.min(csrs.length, 3000));
const ceiling = asResult(bareCeiling(ceilingCsrs));
const allCores = asResult(await bareCeilingOnAllCores(ceilingCsrs));
const results: Result[] = [ceiling, allCores];
for (const engine of ENGINES) results.push(await runEngine(engine, bodies));

const ceilingRate = ceiling.ok / ceiling.seconds;
// CPU time, not wall time: on a machine shared with other work the ceiling's wall time stretches, its CPU time much less.
const ceilingCpuMs = ceiling.perIssuance!.cpuMs;
console.log(`\nissue-internal: ${N} EC P-256 CSR issuances per engine, concurrency ${CONCURRENCY}, ${MAX_SECONDS}s cap, node ${process.version}, ${os.cpus().length} CPUs, load average at start ${loadAtStart}, at end ${os.loadavg()[0]!.toFixed(1)}`);
console.log(table(['run', 'certificates', 'errors', 'cert/s', 'p50 ms', 'p99 ms', 'ratio to ceiling', 'SQL/cert', 'tx/cert', 'PG commits/cert', 'CPU ms/cert', 'CPU vs ceiling'], results.map((r) => {
  const rate = r.ok / r.seconds;
  const p = r.perIssuance;
  return [
    r.name, String(r.ok), String(r.errors), rate.toFixed(0), percentile(r.latenciesMs, 50).toFixed(2), percentile(r.latenciesMs, 99).toFixed(2), (rate / ceilingRate).toFixed(3),
    p ? p.statements.toFixed(2) : '-', p ? p.transactions.toFixed(2) : '-', p?.pgCommits !== undefined ? p.pgCommits.toFixed(2) : '-',
    p ? p.cpuMs.toFixed(3) : '-', p ? (p.cpuMs / ceilingCpuMs).toFixed(1) : '-',
  ];
})));
// Where the 2 cores go per certificate: the server, the load generator (this process), PostgreSQL
// and the whole machine. The machine's CPU per certificate bounds the rate any server design could
// reach on these cores with this client and database: cores × 1000 / machine ms.
const cores = os.cpus().length;
console.log(table(['run', 'server CPU ms/cert', 'load generator ms/cert', 'PostgreSQL ms/cert', 'machine ms/cert', `cert/s if all ${cores} cores were busy`], results.filter((r) => r.perIssuance?.machine).map((r) => {
  const m = r.perIssuance!.machine!;
  const f = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(3));
  return [r.name, f(r.perIssuance!.cpuMs), f(m.benchMs), f(m.databaseMs), f(m.machineMs), m.machineMs ? (cores * 1000 / m.machineMs).toFixed(0) : '-'];
})));
for (const r of results) if (r.firstError) console.log(`${r.name}: first error: ${r.firstError}`);
// The all-cores ceiling bounds every design on this machine: crypto alone, nothing else running.
const allCoresRate = allCores.ok / allCores.seconds;
console.log(`crypto alone on all ${cores} cores: ${allCoresRate.toFixed(0)} cert/s; ${allCoresRate < TARGET
  ? `below the target of ${TARGET}: no server reaches the target on this machine, since HTTP, storage and the load generator only add to this work`
  : `the target of ${TARGET} leaves ${(1000 * cores / TARGET - 1000 * cores / allCoresRate).toFixed(3)} ms of CPU per certificate for everything besides the crypto`}`);
console.log(`target: >= ${TARGET} cert/s on PostgreSQL. Reproduce: cd ${process.cwd()} && BENCH_N=${N} BENCH_CONCURRENCY=${CONCURRENCY} TEST_DATABASE_URL=${PG_BASE} node --import tsx bench/issue-internal.ts`);
if (results.some((r) => r.errors > 0)) process.exitCode = 1;
