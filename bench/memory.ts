/**
 * Resident memory of `certbridge serve` (issue 10: idle ≤ 200 MB RSS), as its own process, on the
 * embedded PGlite and on PostgreSQL: idle after start, peak and after-load during
 * BENCH_MEMORY_LOAD_SECONDS of concurrent REST issuance on the internal CA with an inventory list
 * every second. Each engine is measured at its first start (bootstrap: initdb, CA keys, admin
 * user) and at a restart on the same data directory and database (what a running deployment does),
 * the load on the restarted server. Baseline in the same run: a bare `node --import tsx -e` process
 * (the same Node flags as `npm start`), the floor any server started that way pays.
 * RSS is VmRSS of /proc/<pid>/status (Linux), sampled every 250 ms; `lib/memory-report.ts`,
 * preloaded into the server, gives the V8 heap and the memory outside it (PGlite's WebAssembly heap).
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx bench/memory.ts
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import { buildCsr, generateKeyPair, parseDn, pemEncode } from '@certbridge/pki';
import { freshPostgres, REPO_ROOT, SERVER_RUNTIME, startServerProcess } from './lib/server-process.ts';
import { table } from './lib/stats.ts';

const IDLE_SECONDS = Number(process.env['BENCH_MEMORY_IDLE_SECONDS'] ?? 10);
const LOAD_SECONDS = Number(process.env['BENCH_MEMORY_LOAD_SECONDS'] ?? 20);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 16);
const ENGINES = (process.env['BENCH_ENGINES'] ?? 'pglite,postgres').split(',').map((e) => e.trim()).filter(Boolean);
const PG_BASE = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const TARGET_IDLE_MB = 200;
const MB = 1024 * 1024;

/** Resident set size of a process in bytes. */
async function rss(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!kb) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb[1]) * 1024;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Samples RSS every 250 ms for `ms` and returns the last and the largest sample. */
async function watch(pid: number, ms: number, during?: Promise<unknown>): Promise<{ last: number; peak: number }> {
  let last = await rss(pid), peak = last, done = false;
  void during?.finally(() => (done = true));
  const end = performance.now() + ms;
  while (during ? !done : performance.now() < end) {
    await sleep(250);
    last = await rss(pid);
    peak = Math.max(peak, last);
  }
  return { last, peak };
}

function request(agent: http.Agent, method: 'GET' | 'POST', url: URL, token: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Concurrent issuance until `seconds` have passed, plus one inventory list per second. */
async function load(baseUrl: string, token: string, bodies: string[], seconds: number): Promise<{ issued: number; lists: number; errors: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY + 1 });
  const issueUrl = new URL('/api/v1/applications/default/certificates', baseUrl);
  const listUrl = new URL('/api/v1/certificates?limit=100', baseUrl);
  const deadline = performance.now() + seconds * 1000;
  let next = 0, issued = 0, lists = 0, errors = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      const status = await request(agent, 'POST', issueUrl, token, bodies[next++ % bodies.length]);
      if (status === 201) issued++;
      else errors++;
    }
  };
  const lister = async () => {
    while (performance.now() < deadline) {
      if ((await request(agent, 'GET', listUrl, token)) === 200) lists++;
      else errors++;
      await sleep(1000);
    }
  };
  await Promise.all([...Array.from({ length: CONCURRENCY }, worker), lister()]);
  agent.destroy();
  return { issued, lists, errors };
}

interface Row { name: string; idle: number; heapUsed?: number; external?: number; peak?: number; after?: number; issued?: number; lists?: number; errors?: number }

const REPORT = path.join(os.tmpdir(), `certbridge-bench-memory-${process.pid}`);

/** The server's own view of its memory (written by lib/memory-report.ts). */
async function usage(pid: number): Promise<NodeJS.MemoryUsage> {
  return JSON.parse(await fs.readFile(`${REPORT}.${pid}`, 'utf8')) as NodeJS.MemoryUsage;
}

async function bareNode(): Promise<Row> {
  // The same runtime as the server's (lib/server-process.ts SERVER_RUNTIME): plain node for the bundle.
  const runtime = SERVER_RUNTIME === 'tsx' ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...runtime, '-e', 'setInterval(() => {}, 60_000)'], { cwd: REPO_ROOT, stdio: 'ignore' });
  try {
    await sleep(1000);
    const idle = await watch(child.pid!, IDLE_SECONDS * 1000);
    return { name: `bare node ${runtime.join(' ')} -e`.replace(/ +/g, ' '), idle: idle.last };
  } finally {
    child.kill('SIGTERM');
  }
}

async function server(engine: string, bodies: string[]): Promise<Row[]> {
  const pgdb = engine === 'postgres' ? await freshPostgres(PG_BASE) : undefined;
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-bench-memdata-'));
  const label = engine === 'pglite' ? 'PGlite' : 'PostgreSQL';
  // The restart keeps the data directory, the database and the admin token of the first start.
  const start = (token?: string) => startServerProcess({
    ...(pgdb ? { databaseUrl: pgdb.url } : {}), preload: [path.join(import.meta.dirname, 'lib/memory-report.ts')],
    env: { CERTBRIDGE_DATA_DIR: dataDir, BENCH_MEMORY_FILE: REPORT, ...(token ? { CERTBRIDGE_BOOTSTRAP_TOKEN: token } : {}) },
  });
  try {
    const first = await start();
    const firstIdle = await watch(first.pid, IDLE_SECONDS * 1000);
    const firstUsage = await usage(first.pid);
    await first.stop();
    const srv = { ...(await start(first.token)), token: first.token };
    try {
      const idle = await watch(srv.pid, IDLE_SECONDS * 1000);
      const idleUsage = await usage(srv.pid);
      const running = load(srv.httpUrl, srv.token, bodies, LOAD_SECONDS);
      const during = await watch(srv.pid, 0, running);
      const result = await running;
      const after = await watch(srv.pid, IDLE_SECONDS * 1000);
      return [
        { name: `serve, ${label}, first start`, idle: firstIdle.last, heapUsed: firstUsage.heapUsed, external: firstUsage.external },
        { name: `serve, ${label}, restart`, idle: idle.last, heapUsed: idleUsage.heapUsed, external: idleUsage.external, peak: Math.max(during.peak, after.peak), after: after.last, ...result },
      ];
    } finally {
      await srv.stop();
    }
  } finally {
    await pgdb?.drop();
    await fs.rm(dataDir, { recursive: true, force: true });
    for (const f of await fs.readdir(os.tmpdir())) if (f.startsWith(path.basename(REPORT))) await fs.rm(path.join(os.tmpdir(), f), { force: true });
  }
}

const bodies = Array.from({ length: 500 }, (_, i) => {
  const pair = generateKeyPair('EC-P256');
  const name = `mem-${i}.bench.example`;
  const csr = pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn(`CN=${name}`), sans: [{ type: 'dns', value: name }], privateKey: pair.privateKey, publicKey: pair.publicKey }));
  return JSON.stringify({ profile: 'default-tls', csr });
});

const rows: Row[] = [await bareNode()];
for (const engine of ENGINES) rows.push(...(await server(engine, bodies)));

const mb = (b: number | undefined) => (b === undefined ? '–' : (b / MB).toFixed(1));
console.log(`\nmemory (server runtime: ${SERVER_RUNTIME}): RSS after ${IDLE_SECONDS} s idle, peak during ${LOAD_SECONDS} s of issuance (${CONCURRENCY} connections) + an inventory list per second, and ${IDLE_SECONDS} s after; ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
const base = rows[0]!.idle;
console.log(table(
  ['process', 'idle MB', 'idle vs bare', 'V8 heap used MB', 'outside V8 heap (external) MB', 'peak under load MB', 'after load MB', 'issued', 'lists', 'errors', `idle ≤ ${TARGET_IDLE_MB} MB`],
  rows.map((r) => [r.name, mb(r.idle), `×${(r.idle / base).toFixed(2)}`, mb(r.heapUsed), mb(r.external), mb(r.peak), mb(r.after), String(r.issued ?? '–'), String(r.lists ?? '–'), String(r.errors ?? '–'), r === rows[0] ? '' : r.idle <= TARGET_IDLE_MB * MB ? 'yes' : 'no']),
));
process.exitCode = rows.some((r) => (r.errors ?? 0) > 0) ? 1 : 0;
