/**
 * Background polling of pending ADCS orders (issue 10): database work per minute must grow with the
 * orders *due*, not with the orders pending, and the certsrv request rate must stay under the
 * per-server cap.
 *
 * For each engine, two runs on fresh databases with the same orders due: BENCH_POLL_PENDING pending
 * orders (100,000 by default) and the baseline of 1,000. Orders are bulk-inserted in SQL; the due
 * ones point at real pending requests of an adcs-sim instance (template ManagerApproval, never
 * approved, so every poll finds them still pending), the others have next-poll times spread over the
 * following hour (the poll cap). The bench then plays BENCH_POLL_MINUTES minutes of the
 * `adcs-pending-poll` job (pg-boss runs it every minute; here a test clock jumps one minute and the
 * bench calls the job's handler, `core.adcs.pending.runDue()`, on a real core and database, so a
 * minute of polling lasts only as long as its work). Each minute BENCH_POLL_DUE_PER_MINUTE orders
 * come due.
 *
 * Measured per minute: SQL statements the poller sent (Kysely plugin; BEGIN/COMMIT not included),
 * rows they returned, and rows the database read from `orders` (pg_stat_user_tables: sequential
 * rows read + index rows fetched, the same view on PGlite and PostgreSQL); certsrv requests
 * the emulator answered, their busiest second against the CA's per-server cap.
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx bench/polling.ts
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import fs from 'node:fs/promises';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { buildCsr, generateKeyPair, parseDn, pemEncode } from '@certbridge/pki';
import { certificatePem, createRuntime } from '../packages/adcs-sim/src/server.ts';
import { bootstrap } from '../packages/server/src/bootstrap.ts';
import type { Clock } from '../packages/server/src/clock.ts';
import { createCore } from '../packages/server/src/core.ts';
import { createSealer } from '../packages/server/src/crypto/sealer.ts';
import { migrateToLatest, openDatabase } from '../packages/server/src/db/database.ts';
import type { Database } from '../packages/server/src/db/schema.ts';
import { buildApp } from '../packages/server/src/http/app.ts';
import { freshPostgres } from './lib/server-process.ts';
import { table } from './lib/stats.ts';

const PENDING = Number(process.env['BENCH_POLL_PENDING'] ?? 100_000);
const BASELINE_PENDING = 1_000;
const DUE_PER_MINUTE = Number(process.env['BENCH_POLL_DUE_PER_MINUTE'] ?? 250);
const MINUTES = Number(process.env['BENCH_POLL_MINUTES'] ?? 3);
const RATE_CAP = Number(process.env['BENCH_POLL_RATE_CAP'] ?? 50);
const BASE = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ENGINES = (process.env['BENCH_ENGINES'] ?? 'pglite,postgres').split(',').map((e) => e.trim()).filter(Boolean);
const PASSWORD = 'Passw0rd!';
const MINUTE_MS = 60_000;

interface Run { engine: string; pending: number; statements: number; rowsReturned: number; ordersRowsRead: number; seqScans: number; certsrv: number; busiestSecond: number; polled: number; backlog: number; seconds: number }

/** The emulator in this process, with a counter of the certsrv requests it answers. */
async function startCountingSim() {
  const rt = await createRuntime({
    host: 'localhost', port: 0, domain: 'CORP', adminToken: 'bench-admin-token-0123456789',
    users: [{ name: 'alice', password: PASSWORD }],
    templates: [{ cn: 'ManagerApproval', displayName: 'Manager Approval', enroll: ['alice'], issuance: 'manager' }],
    auth: { basic: true, ntlm: false },
  }, async () => ({}));
  const arrivals: number[] = [];
  rt.server.on('request', (req: { url?: string }) => {
    if (req.url?.startsWith('/certsrv/')) arrivals.push(performance.now());
  });
  const alice = rt.config.users.find((u) => u.name === 'alice')!;
  const pair = generateKeyPair('EC-P256');
  const csr = pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn('CN=pending.bench.example'), sans: [], privateKey: pair.privateKey, publicKey: pair.publicKey }));
  return {
    url: `https://localhost:${rt.port}/certsrv/`,
    tlsCaPem: certificatePem(rt.authority.root.certificate),
    arrivals,
    /** `n` requests left pending at the CA (a CA manager never decides them); their Request IDs. */
    async pendingRequests(n: number): Promise<number[]> {
      const ids: number[] = [];
      for (let i = 0; i < n; i++) {
        const out = await rt.service.submit(alice, csr, 'CertificateTemplate:ManagerApproval');
        if (out.kind !== 'pending') throw new Error(`the emulator answered ${out.kind} for a ManagerApproval request`);
        ids.push(out.record.id);
      }
      return ids;
    },
    close: () => rt.close(),
  };
}
type Sim = Awaited<ReturnType<typeof startCountingSim>>;

function movableClock(start: Date): Clock & { set(d: Date): void } {
  let now = start.getTime();
  return { now: () => new Date(now), set: (d) => void (now = d.getTime()) };
}

/**
 * Rows the database read from `orders` so far. PostgreSQL backends publish their statistics when idle,
 * at most once a second: wait for the pool's connections, then flush this one's.
 */
async function ordersReads(db: Kysely<Database>): Promise<{ read: number; seqScans: number }> {
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await sql`select pg_stat_force_next_flush()`.execute(db);
  await sql`select pg_stat_clear_snapshot()`.execute(db);
  const r = await sql<{ read: string; seq: string }>`select (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::text as read, coalesce(seq_scan, 0)::text as seq
    from pg_stat_user_tables where relname = 'orders'`.execute(db);
  return { read: Number(r.rows[0]?.read ?? 0), seqScans: Number(r.rows[0]?.seq ?? 0) };
}

async function openEngine(engine: string) {
  if (engine === 'pglite') return { handle: await openDatabase({ memory: true }), drop: async () => {} };
  const fresh = await freshPostgres(BASE);
  return { handle: await openDatabase({ url: fresh.url }), drop: fresh.drop };
}

async function run(engine: string, pending: number, sim: Sim): Promise<Run> {
  const { handle, drop } = await openEngine(engine);
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-bench-poll-'));
  await migrateToLatest(handle.db);
  const t0 = new Date();
  const clock = movableClock(t0);
  let statements = 0, rowsReturned = 0;
  const counted = handle.db.withPlugin({
    transformQuery: (args) => ((statements += 1), args.node),
    transformResult: async (args) => ((rowsReturned += args.result.rows.length), args.result),
  });
  const core = createCore({ db: counted, sealer: createSealer(randomBytes(32)), pkiUrl: 'http://pki.bench.test', clock });
  const boot = await bootstrap(core, { engine: handle.engine, dataDir, pkiUrl: 'http://pki.bench.test' });
  const app = await buildApp(core, { publicUrl: 'https://certbridge.bench.test' });
  try {
    const api = async (url: string, payload: object) => {
      const res = await app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${boot.adminToken}` }, payload });
      if (res.statusCode !== 201) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
      return res.json() as { id: string };
    };
    const conn = await api('/api/v1/connections', { name: 'adcs-1', type: 'adcs', url: sim.url, domain: 'CORP', username: 'alice', password: PASSWORD, auth: 'basic', caPem: sim.tlsCaPem, timeoutMs: 5000 });
    const ca = await api('/api/v1/cas/adcs', { name: 'adcs-ca', servers: [{ connection: conn.id, priority: 1, maxRequestsPerSecond: RATE_CAP }] });
    const profile = await api('/api/v1/profiles', { slug: 'adcs-approval', ca: ca.id, policy: 'permissive', template: 'ManagerApproval' });
    const application = await handle.db.selectFrom('applications').select('id').where('name', '=', 'default').executeTakeFirstOrThrow();

    // Due orders come due evenly over the played minutes; the rest later, spread over the poll cap (1 h).
    const due = DUE_PER_MINUTE * MINUTES;
    const requestIds = await sim.pendingRequests(due);
    const windowMs = MINUTES * MINUTE_MS;
    await sql`
      insert into orders (id, application_id, profile_id, ca_id, protocol, status, subject, sans, ca_request_id, ca_server, template,
        disposition, attempts, next_poll_at, created_at, updated_at, common_name)
      select gen_random_uuid(), ${application.id}, ${profile.id}, ${ca.id}, 'rest', 'pending', 'CN=pending-' || g || '.bench.example', '[]'::jsonb,
        case when g <= ${due}::int then (${JSON.stringify(requestIds)}::jsonb ->> (g - 1))::text else (1000000 + g)::text end,
        ${conn.id}, 'ManagerApproval', 'Taken Under Submission', 10,
        case when g <= ${due}::int
          then ${t0.toISOString()}::timestamptz + ((g - 1) * ${windowMs / due}::float8 + 1) * interval '1 millisecond'
          else ${t0.toISOString()}::timestamptz + (${windowMs}::float8 + (g * 7919 % 3600000)) * interval '1 millisecond' end,
        ${t0.toISOString()}::timestamptz - interval '1 day', ${t0.toISOString()}::timestamptz - interval '1 day', 'pending-' || g || '.bench.example'
      from generate_series(1, ${pending}::int) as g`.execute(handle.db);
    // PostgreSQL's autovacuum analyses a table after such a load; do it now rather than at a random point of the run.
    if (handle.engine === 'postgres') await sql`analyze orders`.execute(handle.db);

    const before = await ordersReads(handle.db);
    const arrivalsBefore = sim.arrivals.length;
    statements = 0;
    rowsReturned = 0;
    let polled = 0;
    const started = performance.now();
    for (let m = 1; m <= MINUTES; m++) {
      clock.set(new Date(t0.getTime() + m * MINUTE_MS));
      polled += (await core.adcs.pending.runDue()).polled;
    }
    const seconds = (performance.now() - started) / 1000;
    const s = statements, r = rowsReturned;
    const after = await ordersReads(handle.db);
    const times = sim.arrivals.slice(arrivalsBefore);
    let busiest = 0;
    for (let i = 0, j = 0; j < times.length; j++) {
      while (times[j]! - times[i]! >= 1000) i++;
      busiest = Math.max(busiest, j - i + 1);
    }
    // Orders whose poll time has come and that no run reached: a backlog that grows every minute.
    const left = await handle.db.selectFrom('orders').select((eb) => eb.fn.countAll<string>().as('n')).where('status', '=', 'pending').where('next_poll_at', '<=', clock.now()).executeTakeFirstOrThrow();
    return { engine, pending, statements: s / MINUTES, rowsReturned: r / MINUTES, ordersRowsRead: (after.read - before.read) / MINUTES, seqScans: after.seqScans - before.seqScans, certsrv: times.length / MINUTES, busiestSecond: busiest, polled, backlog: Number(left.n), seconds };
  } finally {
    await app.close();
    await core.adcs.runtime.close();
    await handle.close();
    await drop();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

const sim = await startCountingSim();
const runs: Run[] = [];
try {
  for (const engine of ENGINES) {
    for (const pending of [BASELINE_PENDING, PENDING]) {
      process.stdout.write(`  ${engine}: ${pending.toLocaleString('en-US')} pending, ${DUE_PER_MINUTE * MINUTES} due over ${MINUTES} min …\n`);
      runs.push(await run(engine, pending, sim));
    }
  }
} finally {
  await sim.close();
}

const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
console.log(`\npolling: ${MINUTES} played minutes, ${DUE_PER_MINUTE} orders due per minute, per-server cap ${RATE_CAP}/s; ${os.cpus().length} CPUs, load average ${load}`);
const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));
console.log(table(
  ['engine', 'pending', 'polled', 'still due', 'SQL/min', 'rows returned/min', 'orders rows read/min', 'seq scans of orders', 'certsrv req/min', 'busiest second', 'cap/s', 'wall s'],
  runs.map((x) => [x.engine, x.pending.toLocaleString('en-US'), String(x.polled), String(x.backlog), fmt(x.statements), fmt(x.rowsReturned), fmt(x.ordersRowsRead), String(x.seqScans), fmt(x.certsrv), String(x.busiestSecond), String(RATE_CAP), x.seconds.toFixed(1)]),
));
let failed = false;
for (const engine of ENGINES) {
  const [base, big] = [runs.find((x) => x.engine === engine && x.pending === BASELINE_PENDING)!, runs.find((x) => x.engine === engine && x.pending === PENDING)!];
  const ratio = (a: number, b: number) => (b === 0 ? (a === 0 ? 1 : Infinity) : a / b);
  console.log(`${engine}: ${PENDING.toLocaleString('en-US')} vs ${BASELINE_PENDING.toLocaleString('en-US')} pending, same due: SQL/min ×${ratio(big.statements, base.statements).toFixed(2)}, orders rows read/min ×${ratio(big.ordersRowsRead, base.ordersRowsRead).toFixed(2)}, certsrv req/min ×${ratio(big.certsrv, base.certsrv).toFixed(2)} (≈1.00 when work grows with due orders only)`);
  // A token bucket of capacity = cap allows at most 2 × cap inside any one second.
  for (const x of [base, big]) {
    if (x.busiestSecond > 2 * RATE_CAP) (failed = true), console.log(`${engine}: ${x.busiestSecond} certsrv requests in one second exceeds the cap's bound (${2 * RATE_CAP})`);
    if (x.backlog > 0) (failed = true), console.log(`${engine}, ${x.pending.toLocaleString('en-US')} pending: ${x.backlog} due orders were not polled in their minute (the poller falls behind)`);
  }
}
process.exitCode = failed ? 1 : 0;
