/**
 * Issuance through the on-prem connector hop (issue 7 "Speed") against the direct ADCS backend,
 * the same adcs-sim, the same server, the same run:
 *  - direct: an ADCS CA the server asks itself (pooled adcs-client);
 *  - connector: an ADCS CA reached through a connector (job row → wss socket → connector's own
 *    adcs-client → answer row), the connector running in this process over real mutual TLS.
 * Phase 1 alternates single requests (latency p50/p95, added latency of the hop); phase 2 sends
 * BENCH_CONCURRENCY requests at a time through each path (issuances per second, ratio).
 *
 * Environment: BENCH_N (sequential requests per side, default 200), BENCH_CONCURRENT_N (requests
 * per side in phase 2, default 400), BENCH_CONCURRENCY (default 16), TEST_DATABASE_URL (a fresh
 * PostgreSQL database is created and dropped; without it the embedded PGlite is used).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { startAdcsSim } from '@certbridge/adcs-sim';
import { register, startRunner } from '@certbridge/connector';
import { buildCsr, generateKeyPair, parseDn, pemEncode } from '@certbridge/pki';
import { loadConfig } from '../packages/server/src/config/config.ts';
import { startServer } from '../packages/server/src/server.ts';

const N = Number(process.env['BENCH_N'] ?? 200);
const CN = Number(process.env['BENCH_CONCURRENT_N'] ?? 400);
const C = Number(process.env['BENCH_CONCURRENCY'] ?? 16);
const PASSWORD = 'Passw0rd!';
const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil((q / 100) * xs.length) - 1))] ?? 0;
const fmt = (x: number) => x.toFixed(2);

async function freshPostgres(): Promise<{ url?: string; drop(): Promise<void> }> {
  const base = process.env['TEST_DATABASE_URL'];
  if (!base) return { drop: async () => {} };
  const name = `certbridge_bench_conn_${randomBytes(5).toString('hex')}`;
  const run = async (q: string) => {
    const c = new pg.Client({ connectionString: base });
    await c.connect();
    await c.query(q);
    await c.end();
  };
  await run(`create database ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`drop database if exists ${name} with (force)`) };
}

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-bench-connector-'));
const pgdb = await freshPostgres();
const token = `cbt_bench_${randomBytes(16).toString('hex')}`;
const sim = await startAdcsSim({
  host: 'localhost', port: 0, domain: 'CORP', adminToken: 'bench-connector-admin-token-0123456789',
  users: [{ name: 'alice', password: PASSWORD }], templates: [{ cn: 'WebServer', displayName: 'Web Server', enroll: ['alice'] }], auth: { ntlm: true, basic: false },
});
const server = await startServer(loadConfig({
  ...(pgdb.url ? { DATABASE_URL: pgdb.url } : {}), CERTBRIDGE_DATA_DIR: dir, CERTBRIDGE_HTTP_PORT: '0', CERTBRIDGE_HTTPS_PORT: '0', CERTBRIDGE_LISTEN: '127.0.0.1',
  CERTBRIDGE_MASTER_KEY: randomBytes(32).toString('base64'), CERTBRIDGE_BOOTSTRAP_TOKEN: token, CERTBRIDGE_LOG_LEVEL: 'warn',
  CERTBRIDGE_PUBLIC_URL: 'https://127.0.0.1', CERTBRIDGE_PKI_URL: 'http://pki.bench.test',
}));
const api = async (method: string, url: string, body?: object) => {
  const res = await fetch(`${server.httpUrl}${url}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
};

const created = await api('POST', '/api/v1/connectors', { name: 'bench', site: 'bench' });
const stateDir = path.join(dir, 'connector');
const state = await register({ server: server.httpsUrl, token: String(created['registrationToken']), dir: stateDir, env: {} });
const runner = startRunner(state, { stateDir, env: {}, log: () => {} });
await runner.connected();
const connection = (name: string) => api('POST', '/api/v1/connections', { name, type: 'adcs', url: sim.url, domain: 'CORP', username: 'alice', password: PASSWORD, auth: 'ntlm', caPem: sim.tlsCaPem, maxSockets: 4 });
await connection('sim-direct');
await connection('sim-via-connector');
const direct = await api('POST', '/api/v1/cas/adcs', { name: 'bench-direct', servers: [{ connection: 'sim-direct', priority: 1, maxRequestsPerSecond: 1000 }] });
const hop = await api('POST', '/api/v1/cas/connector', { name: 'bench-connector', connector: 'bench', servers: [{ connection: 'sim-via-connector', priority: 1 }], jobTimeoutSeconds: 60 });
await api('POST', '/api/v1/profiles', { slug: 'bench-direct', ca: direct['id'], policy: 'permissive', template: 'WebServer' });
await api('POST', '/api/v1/profiles', { slug: 'bench-connector', ca: hop['id'], policy: 'permissive', template: 'WebServer' });
await api('PATCH', '/api/v1/applications/default', { profiles: ['default-tls', 'bench-direct', 'bench-connector'] });

let serial = 0;
const csr = () => {
  const pair = generateKeyPair('EC-P256');
  return pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn(`CN=bench-${serial++}.corp.example.test`), privateKey: pair.privateKey, publicKey: pair.publicKey }));
};
const issue = async (profile: string, csrPem: string) => {
  const res = await fetch(`${server.httpUrl}/api/v1/applications/default/certificates`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ profile, csr: csrPem }),
  });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`${profile}: HTTP ${res.status}`);
};

// Warm-up (TLS, NTLM handshakes on both pools, JIT), untimed.
for (let i = 0; i < 10; i++) await Promise.all([issue('bench-direct', csr()), issue('bench-connector', csr())]);

const directMs: number[] = [];
const hopMs: number[] = [];
const seqCsrs = Array.from({ length: 2 * N }, csr);
for (let i = 0; i < N; i++) {
  // Alternate so machine load drifts hit both paths alike.
  let t = performance.now();
  await issue('bench-direct', seqCsrs[2 * i]!);
  directMs.push(performance.now() - t);
  t = performance.now();
  await issue('bench-connector', seqCsrs[2 * i + 1]!);
  hopMs.push(performance.now() - t);
}

async function throughput(profile: string): Promise<number> {
  const csrs = Array.from({ length: CN }, csr);
  let next = 0;
  const t = performance.now();
  await Promise.all(Array.from({ length: C }, async () => {
    while (next < csrs.length) await issue(profile, csrs[next++]!);
  }));
  return CN / ((performance.now() - t) / 1000);
}
const directRate = await throughput('bench-direct');
const hopRate = await throughput('bench-connector');

console.log(`ADCS issuance through the connector hop vs direct, adcs-sim on loopback (NTLM), ${pgdb.url ? 'postgres' : 'pglite'}, ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`sequential (${N} per side)  direct p50 ${fmt(p(directMs, 50))} ms p95 ${fmt(p(directMs, 95))} ms | connector p50 ${fmt(p(hopMs, 50))} ms p95 ${fmt(p(hopMs, 95))} ms`);
console.log(`added latency of the connector hop: p50 ${fmt(p(hopMs, 50) - p(directMs, 50))} ms (latency ratio ${fmt(p(hopMs, 50) / p(directMs, 50))}x)`);
console.log(`throughput, ${C} concurrent (${CN} per side): direct ${fmt(directRate)}/s | through one connector ${fmt(hopRate)} jobs/s (ratio ${fmt(hopRate / directRate)})`);

await runner.stop();
await server.close();
await pgdb.drop();
await sim.stop();
await fs.rm(dir, { recursive: true, force: true });
