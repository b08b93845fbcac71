/**
 * ADCS issuance (issue 4 "Speed"): the same emulator, the same run, one request at a time:
 *  - direct: AdcsClient.submit (certfnsh.asp + certnew.cer) over NTLM, what any certsrv client pays;
 *  - certbridge: POST /api/v1/applications/default/certificates through an ADCS profile
 *    (CSR verify, policy, order row, pooled client with failover and rate cap, certificate row, audit).
 * Prints p50/p95 of both, the overhead per issuance (target ≤ 2 ms p50) and the NTLM handshakes
 * per 1,000 issuances (target: one per pooled socket, i.e. ≤ maxSockets in total).
 *
 * Environment: BENCH_N (issuances per side, default 300), TEST_DATABASE_URL (PostgreSQL base URL:
 * a fresh database is created and dropped; without it the embedded PGlite is used), BENCH_CPU_PROF
 * (a directory: after the timed run, each side runs BENCH_N more times alone under the V8 profiler and
 * direct.cpuprofile / certbridge.cpuprofile are written there, so neither side's samples hide in the
 * other's; the emulator runs in this process, so both include its work).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { AdcsClient } from '@certbridge/adcs-client';
import { startAdcsSim } from '@certbridge/adcs-sim';
import { buildCsr, generateKeyPair, parseDn, pemEncode } from '@certbridge/pki';
import { bootstrap } from '../packages/server/src/bootstrap.ts';
import { createCore } from '../packages/server/src/core.ts';
import { cpuSample } from './lib/machine-cpu.ts';
import { createSealer } from '../packages/server/src/crypto/sealer.ts';
import { migrateToLatest, openDatabase } from '../packages/server/src/db/database.ts';
import { buildApp } from '../packages/server/src/http/app.ts';

const N = Number(process.env['BENCH_N'] ?? 300);
const PASSWORD = 'Passw0rd!';
const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil((q / 100) * xs.length) - 1))] ?? 0;

async function database() {
  const base = process.env['TEST_DATABASE_URL'];
  if (!base) return { handle: await openDatabase({ memory: true }), engine: 'pglite' as const, drop: async () => {} };
  const name = `certbridge_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    handle: await openDatabase({ url: url.toString(), preparedStatements: process.env['CERTBRIDGE_PG_PREPARED_STATEMENTS'] !== 'off' }), engine: 'postgres' as const, url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

const sim = await startAdcsSim({
  host: 'localhost', port: 0, domain: 'CORP', adminToken: 'bench-admin-token-0123456789',
  users: [{ name: 'alice', password: PASSWORD }], templates: [{ cn: 'WebServer', displayName: 'Web Server', enroll: ['alice'] }], auth: { ntlm: true, basic: false },
});
const db = await database();
await migrateToLatest(db.handle.db);
// Counts the statements Certbridge sends (Kysely queries; BEGIN/COMMIT not included): on this
// path each one is a database round trip, the largest part of the overhead.
let statements = 0;
const counted = db.handle.db.withPlugin({ transformQuery: (args) => ((statements += 1), args.node), transformResult: async (args) => args.result });
// Every statement that reaches PostgreSQL, BEGIN/COMMIT and precompiled queries included (Kysely's
// plugin above does not see those): the round trips an issuance waits for.
let roundTrips = 0;
const pgQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: Parameters<typeof pgQuery>) {
  roundTrips += 1;
  return pgQuery.apply(this, args);
} as typeof pgQuery;
const core = createCore({ db: counted, sealer: createSealer(randomBytes(32)), pkiUrl: 'http://pki.bench.test' });
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'certbridge-bench-adcs-'));
const boot = await bootstrap(core, { engine: db.engine, dataDir, pkiUrl: 'http://pki.bench.test' });
const app = await buildApp(core, { publicUrl: 'https://certbridge.bench.test' });
const headers = { authorization: `Bearer ${boot.adminToken}` };
const call = async (method: 'POST' | 'PATCH' | 'GET', url: string, payload?: object) => {
  const res = await app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json();
};
const conn = await call('POST', '/api/v1/connections', { name: 'sim', url: sim.url, domain: 'CORP', username: 'alice', password: PASSWORD, auth: 'ntlm', caPem: sim.tlsCaPem, maxSockets: 2 });
const ca = await call('POST', '/api/v1/cas/adcs', { name: 'bench-adcs', servers: [{ connection: conn.id, priority: 1, maxRequestsPerSecond: 1000 }] });
await call('POST', '/api/v1/profiles', { slug: 'bench-adcs', ca: ca.id, policy: 'permissive', template: 'WebServer' });
await call('PATCH', '/api/v1/applications/default', { profiles: ['default-tls', 'bench-adcs'] });

const profileDir = process.env['BENCH_CPU_PROF'];
const csrs = Array.from({ length: (profileDir ? 3 * N : N) + 20 }, (_, i) => {
  const pair = generateKeyPair('EC-P256');
  return pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn(`CN=bench-${i}.corp.example.test`), privateKey: pair.privateKey, publicKey: pair.publicKey }));
});
const direct = new AdcsClient({ baseUrl: sim.url, username: 'alice', password: PASSWORD, domain: 'CORP', auth: 'ntlm', ca: sim.tlsCaPem, maxSockets: 2 });

const directMs: number[] = [];
const bridgeMs: number[] = [];
// CPU time as well as wall time: on a busy machine wall time mostly measures the neighbours.
let directCpu = 0;
let bridgeCpu = 0;
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
// Warm both paths (TLS, NTLM handshake, CA chain cache, JIT), then alternate so drift hits both.
for (let i = 0; i < 10; i++) {
  await direct.submit({ csrPem: csrs[i]!, template: 'WebServer' });
  await call('POST', '/api/v1/applications/default/certificates', { profile: 'bench-adcs', csr: csrs[i + 10]! });
}
const before = await core.adcs.runtime.pool.counters();
const machineBefore = cpuSample();
const statementsBefore = statements;
const roundTripsBefore = roundTrips;
for (let i = 0; i < N; i++) {
  const csr = csrs[20 + i]!;
  let c = cpu();
  let t = performance.now();
  const r = await direct.submit({ csrPem: csr, template: 'WebServer' });
  directMs.push(performance.now() - t);
  directCpu += cpu() - c;
  if (r.status !== 'issued') throw new Error(`direct submit: ${r.status}`);
  c = cpu();
  t = performance.now();
  const res = await app.inject({ method: 'POST', url: '/api/v1/applications/default/certificates', headers, payload: { profile: 'bench-adcs', csr } });
  bridgeMs.push(performance.now() - t);
  bridgeCpu += cpu() - c;
  if (res.statusCode !== 201) throw new Error(`certbridge: ${res.statusCode} ${res.body}`);
}
const machineAfter = cpuSample();
/** CPU of the PostgreSQL backends serving the bench database only (other work on the same server excluded). */
async function benchBackendsMs(): Promise<number | undefined> {
  if (!('url' in db)) return undefined;
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const pids = (await c.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()')).rows.map((r) => r.pid);
    let us = 0;
    for (const pid of pids) us += (machineAfter.databaseUs.get(pid) ?? 0) - (machineBefore.databaseUs.get(pid) ?? 0);
    return us / 1000 / N;
  } finally {
    await c.end();
  }
}
const backendsMs = await benchBackendsMs();
const after = await core.adcs.runtime.pool.counters();
const statementsPerIssuance = (statements - statementsBefore) / N;
// The direct side never touches the database, so every round trip of the run is Certbridge's.
const roundTripsPerIssuance = (roundTrips - roundTripsBefore) / N;
const handshakes = after.handshakes - before.handshakes;

if (profileDir) {
  await mkdir(profileDir, { recursive: true });
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  const profile = async (name: string, run: (csr: string) => Promise<void>, from: number) => {
    await session.post('Profiler.start');
    for (let i = 0; i < N; i++) await run(csrs[from + i]!);
    const { profile: result } = await session.post('Profiler.stop');
    await writeFile(`${profileDir}/${name}.cpuprofile`, JSON.stringify(result));
  };
  await profile('direct', async (csrPem) => { await direct.submit({ csrPem, template: 'WebServer' }); }, 20 + N);
  await profile('certbridge', async (csr) => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/applications/default/certificates', headers, payload: { profile: 'bench-adcs', csr } });
    if (res.statusCode !== 201) throw new Error(`certbridge: ${res.statusCode} ${res.body}`);
  }, 20 + 2 * N);
  session.disconnect();
  console.log(`CPU profiles of each side alone (${N} issuances each): ${profileDir}/direct.cpuprofile, ${profileDir}/certbridge.cpuprofile`);
}

const fmt = (x: number) => x.toFixed(2);
console.log(`ADCS issuance, ${N} sequential requests per side, NTLM, ${db.engine}, adcs-sim on loopback`);
console.log(`direct certsrv   p50 ${fmt(p(directMs, 50))} ms  p95 ${fmt(p(directMs, 95))} ms`);
console.log(`through certbridge p50 ${fmt(p(bridgeMs, 50))} ms  p95 ${fmt(p(bridgeMs, 95))} ms`);
console.log(`overhead per issuance p50 ${fmt(p(bridgeMs, 50) - p(directMs, 50))} ms wall (target ≤ 2 ms); certbridge/direct p50 ratio ${(p(bridgeMs, 50) / p(directMs, 50)).toFixed(2)}`);
console.log(`CPU per issuance (this process, emulator included): direct ${fmt(directCpu / N)} ms, certbridge ${fmt(bridgeCpu / N)} ms, overhead ${fmt((bridgeCpu - directCpu) / N)} ms`);
console.log(`SQL statements per issuance through certbridge: ${fmt(statementsPerIssuance)} built by Kysely${db.engine === 'postgres' ? `; ${fmt(roundTripsPerIssuance)} PostgreSQL round trips (precompiled queries, BEGIN and COMMIT included)` : ''}`);
// The direct side never touches the database: its backends' CPU over the loop is Certbridge's.
if (backendsMs !== undefined) console.log(`PostgreSQL CPU per issuance: ${fmt(backendsMs)} ms (the backends serving the bench database, over the measured loop)`);
console.log(`NTLM handshakes during the measured run: ${handshakes} (${fmt((handshakes / N) * 1000)} per 1,000 issuances; pooled sockets: 2, target: no new handshake once warm)`);
console.log(`total handshakes since start: ${after.handshakes} for ${after.requests} certsrv requests`);

await direct.close();
await app.close();
await core.adcs.runtime.close();
await db.handle.close();
await db.drop();
await sim.stop();
await rm(dataDir, { recursive: true, force: true });
