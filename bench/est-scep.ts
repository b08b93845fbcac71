/**
 * EST and SCEP enrollments per second on the internal CA (issue 5), through the real server
 * process (`certbridge serve`), compared with the REST issuance measured in the same run on the
 * same server, in alternating rounds: each protocol's rate is printed as a ratio to it, which is
 * what survives a loaded machine. Requests are prepared before timing (CSR keys, SCEP envelopes and signatures):
 *   REST  POST /api/v1/applications/default/certificates  {profile, csr}           → 201
 *   EST   POST /.well-known/est/default-tls/simpleenroll  base64 PKCS#10, Basic     → 200 PKCS#7 (HTTPS)
 *   SCEP  POST /scep/default-tls?operation=PKIOperation   PKCSReq, static challenge → 200 CertRep SUCCESS
 * Every answer is checked; anything else counts as an error and the bench exits 1.
 *
 * Environment: BENCH_N (requests per protocol, default 600), BENCH_CONCURRENCY (default 16),
 * BENCH_MAX_SECONDS (per protocol, default 60), BENCH_ENGINES (default "pglite"; "postgres" uses
 * TEST_DATABASE_URL), BENCH_LOG_LEVEL (default warn), BENCH_CPU_PROF (directory for the server's CPU profile).
 */
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { buildCsr, generateKeyPair, parseDn, pemDecode, pemEncode } from '@certbridge/pki';
import { decodePkiMessage } from '../packages/server/src/enrollment/scep/scep-message.ts';
import { clientIdentity, pkiMessage, type ClientIdentity } from '../packages/server/test/scep-message-builder.ts';
import { freshPostgres, startServerProcess, type ServerProcess } from './lib/server-process.ts';
import { percentile, table } from './lib/stats.ts';

const N = Number(process.env['BENCH_N'] ?? 600);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 16);
const MAX_SECONDS = Number(process.env['BENCH_MAX_SECONDS'] ?? 60);
const ENGINES = (process.env['BENCH_ENGINES'] ?? 'pglite').split(',').map((e) => e.trim()).filter(Boolean);
const PG_BASE = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const WARMUP = 30;
/** Each protocol's timed requests are sent in this many rounds, alternating with the others. */
const ROUNDS = 6;
const EST_AUTH = `Basic ${Buffer.from('bench:est bench secret 1').toString('base64')}`;
const CHALLENGE = 'scep bench challenge';
/** SCEP signer identities are RSA-2048 (slow to make): a small pool signs every message, each with its own CSR key and transactionID. */
const SCEP_SIGNERS = 8;

interface Request { path: string; headers: Record<string, string>; body: Buffer }
interface Result { name: string; ok: number; errors: number; seconds: number; latenciesMs: number[]; firstError?: string }
type Check = (status: number, body: Buffer) => boolean;

function send(agent: http.Agent, base: string, req: Request): Promise<{ status: number; body: Buffer }> {
  const url = new URL(req.path, base);
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const r = lib.request(url, { method: 'POST', agent, headers: { ...req.headers, 'content-length': String(req.body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(req.body);
  });
}

/** `CONCURRENCY` keep-alive connections, each sending its next request as soon as the last one answers. */
async function load(name: string, base: string, requests: Request[], check: Check, deadline: number): Promise<Result> {
  // The server's certificate comes from its own throwaway CA: TLS still runs, the chain is not what is measured.
  const agent = base.startsWith('https:') ? new https.Agent({ keepAlive: true, maxSockets: CONCURRENCY, rejectUnauthorized: false }) : new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const latenciesMs: number[] = [];
  let next = 0, ok = 0, errors = 0, firstError: string | undefined;
  const start = performance.now();
  const worker = async () => {
    while (next < requests.length && performance.now() < deadline) {
      const req = requests[next++]!;
      const t0 = performance.now();
      try {
        const res = await send(agent, base, req);
        if (check(res.status, res.body)) ok++, latenciesMs.push(performance.now() - t0);
        else errors++, (firstError ??= `${res.status} ${res.body.toString('latin1').slice(0, 200)}`);
      } catch (err) {
        errors++, (firstError ??= String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  agent.destroy();
  return { name, ok, errors, seconds: (performance.now() - start) / 1000, latenciesMs, ...(firstError ? { firstError } : {}) };
}

function csrDer(label: string, i: number): Uint8Array {
  const pair = generateKeyPair('EC-P256');
  const cn = `${label}-${i}.bench.example.test`;
  return buildCsr({ subject: parseDn(`CN=${cn}`), sans: [{ type: 'dns', value: cn }], privateKey: pair.privateKey, publicKey: pair.publicKey, ...(label === 'scep' ? { challengePassword: CHALLENGE } : {}) });
}

const isScepSuccess: Check = (status, body) => {
  if (status !== 200) return false;
  const der = new Uint8Array(body);
  // pkiStatus SUCCESS: the attribute OID followed by SET { PrintableString "0" }.
  return decodePkiMessage(der).signatureValid && Buffer.from(der).includes(Buffer.from('060a6086480186f84501090331031301 30'.replace(/ /g, ''), 'hex'));
};

async function api(server: ServerProcess, method: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(new URL(path, server.httpUrl), { method, headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function runEngine(engine: string, signers: ClientIdentity[]): Promise<Result[]> {
  const pgdb = engine === 'postgres' ? await freshPostgres(PG_BASE) : undefined;
  const server = await startServerProcess({
    ...(pgdb ? { databaseUrl: pgdb.url } : {}), logLevel: process.env['BENCH_LOG_LEVEL'] ?? 'warn',
    ...(process.env['BENCH_CPU_PROF'] ? { cpuProfileDir: process.env['BENCH_CPU_PROF'] } : {}),
  });
  try {
    const settings = await api(server, 'PUT', '/api/v1/applications/default/enrollment/default-tls', {
      est: { enabled: true, auth: 'basic', username: 'bench', password: 'est bench secret 1' }, scep: { enabled: true, challenge: 'static', staticChallenge: CHALLENGE },
    });
    const raCert = pemDecode((settings['scep'] as { raCertificate: string }).raCertificate, 'CERTIFICATE');
    const total = N + WARMUP;
    const rest = Array.from({ length: total }, (_, i): Request => ({
      path: '/api/v1/applications/default/certificates', headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ profile: 'default-tls', csr: pemEncode('CERTIFICATE REQUEST', csrDer('rest', i)) })),
    }));
    const est = Array.from({ length: total }, (_, i): Request => ({
      path: '/.well-known/est/default-tls/simpleenroll', headers: { authorization: EST_AUTH, 'content-type': 'application/pkcs10' }, body: Buffer.from(Buffer.from(csrDer('est', i)).toString('base64')),
    }));
    const scep = Array.from({ length: total }, (_, i): Request => ({
      path: '/scep/default-tls?operation=PKIOperation', headers: { 'content-type': 'application/x-pki-message' },
      body: pkiMessage({ messageType: 19, content: csrDer('scep', i), raCert, client: signers[i % signers.length]!, transactionId: `bench-${engine}-${i}` }),
    }));
    const runs: [string, string, Request[], Check][] = [
      ['REST', server.httpUrl, rest, (s) => s === 201],
      ['EST simpleenroll', server.httpsUrl, est, (s, b) => s === 200 && b.toString('latin1').startsWith('MII')],
      ['SCEP PKCSReq', server.httpUrl, scep, isScepSuccess],
    ];
    for (const [name, base, requests, check] of runs) {
      const warm = await load(`${name} warm-up`, base, requests.slice(0, WARMUP), check, Infinity);
      if (warm.errors) throw new Error(`${name} warm-up failed on ${engine}: ${warm.firstError}`);
    }
    // Interleaved rounds (REST, EST, SCEP, REST, …): a machine whose load drifts during the run weighs on every protocol alike.
    const results: Result[] = runs.map(([name]) => ({ name: `${name} on ${engine}`, ok: 0, errors: 0, seconds: 0, latenciesMs: [] }));
    const perRound = Math.ceil(N / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, [name, base, requests, check]] of runs.entries()) {
        const chunk = requests.slice(WARMUP + round * perRound, WARMUP + (round + 1) * perRound);
        const r = await load(name, base, chunk, check, performance.now() + (MAX_SECONDS / ROUNDS) * 1000);
        const total = results[i]!;
        total.ok += r.ok, total.errors += r.errors, total.seconds += r.seconds, total.latenciesMs.push(...r.latenciesMs);
        if (r.firstError) total.firstError ??= r.firstError;
      }
    }
    return results;
  } finally {
    await server.stop();
    await pgdb?.drop();
  }
}

const loadAtStart = os.loadavg()[0]!.toFixed(1);
const signers = Array.from({ length: SCEP_SIGNERS }, (_, i) => clientIdentity(`bench-signer-${i}`));
let failed = false;
for (const engine of ENGINES) {
  const results = await runEngine(engine, signers);
  const baseline = results[0]!.ok / results[0]!.seconds;
  console.log(`\nest-scep on ${engine}: ${N} enrollments per protocol, concurrency ${CONCURRENCY}, ${MAX_SECONDS}s cap, node ${process.version}, ${os.cpus().length} CPUs, load average at start ${loadAtStart}, at end ${os.loadavg()[0]!.toFixed(1)}`);
  console.log(table(['run', 'certificates', 'errors', 'cert/s', 'p50 ms', 'p99 ms', 'ratio to REST'], results.map((r) => {
    const rate = r.ok / r.seconds;
    return [r.name, String(r.ok), String(r.errors), rate.toFixed(1), percentile(r.latenciesMs, 50).toFixed(1), percentile(r.latenciesMs, 99).toFixed(1), (rate / baseline).toFixed(2)];
  })));
  for (const r of results) if (r.errors) failed = true, console.log(`${r.name}: first error: ${r.firstError}`);
}
process.exitCode = failed ? 1 : 0;
