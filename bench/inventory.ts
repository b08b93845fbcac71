/**
 * Inventory list and search latency at scale (issue 10: p95 ≤ 50 ms at 1,000,000 certificates).
 *
 * A real `certbridge serve` on a fresh PostgreSQL database issues one certificate through the API;
 * that row is then cloned in SQL (generate_series) into BENCH_INVENTORY_N certificates with distinct
 * ids, serials, names, validity and creation times (5 % revoked), so the API reads a table shaped like
 * a large deployment's. Each query is asked BENCH_QUERIES times, one at a time, over keep-alive HTTP;
 * the baseline in the same run is `GET /healthz` (HTTP + auth-free floor of the same server).
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx bench/inventory.ts
 */
import pg from 'pg';
import { buildCsr, generateKeyPair, parseDn, pemEncode } from '@certbridge/pki';
import { freshPostgres, startServerProcess } from './lib/server-process.ts';
import { percentile, table } from './lib/stats.ts';

const N = Number(process.env['BENCH_INVENTORY_N'] ?? 1_000_000);
const QUERIES = Number(process.env['BENCH_QUERIES'] ?? 200);
const BASE = process.env['TEST_DATABASE_URL'];
const TARGET_P95_MS = 50;

if (!BASE) {
  console.log('inventory: skipped (set TEST_DATABASE_URL to a PostgreSQL server; the 1,000,000-row table is built there)');
  process.exit(0);
}

async function timed(url: string, headers: Record<string, string>): Promise<{ ms: number; body: { items?: unknown[]; nextCursor?: string | null } }> {
  const start = process.hrtime.bigint();
  const res = await fetch(url, { headers }); // Node's fetch keeps the connection alive between requests
  const body = (await res.json()) as { items?: unknown[]; nextCursor?: string | null };
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
  return { ms, body };
}

/** Clones the one real certificate row into `n` rows in batches (one statement each). */
async function fillInventory(db: pg.Client, n: number): Promise<void> {
  const batch = 200_000;
  for (let from = 1; from <= n; from += batch) {
    const to = Math.min(n, from + batch - 1);
    await db.query(`
      insert into certificates (id, ca_id, order_id, application_id, profile_id, requester_id, serial_hex, subject, sans, search_text,
        key_algorithm, fingerprint_sha256, not_before, not_after, status, revoked_at, revocation_reason, der, chain, private_key_sealed,
        renewed_from_id, created_at)
      select gen_random_uuid(), t.ca_id, null, t.application_id, t.profile_id, t.requester_id, md5('serial' || i), 'CN=host-' || i || '.bench.example',
        jsonb_build_array(jsonb_build_object('type', 'dns', 'value', 'host-' || i || '.bench.example')), 'cn=host-' || i || '.bench.example host-' || i || '.bench.example',
        t.key_algorithm, md5('fp' || i), now() - interval '1 day', now() + (i % 365) * interval '1 day',
        case when i % 20 = 0 then 'revoked' else 'active' end, case when i % 20 = 0 then now() else null end,
        case when i % 20 = 0 then 'keyCompromise' else null end, t.der, t.chain, null, null, now() - (i * interval '1 second')
      from generate_series($1::int, $2::int) as i, (select * from certificates limit 1) as t`, [from, to]);
    process.stdout.write(`  ${to.toLocaleString('en-US')} rows\r`);
  }
  await db.query('analyze certificates');
  process.stdout.write('\n');
}

async function main(): Promise<void> {
  const database = await freshPostgres(BASE!);
  const server = await startServerProcess({ databaseUrl: database.url });
  const db = new pg.Client({ connectionString: database.url });
  await db.connect();
  try {
    const auth = { authorization: `Bearer ${server.token}` };
    const pair = generateKeyPair('EC-P256');
    const csr = pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn('CN=seed.bench.example'), sans: [{ type: 'dns', value: 'seed.bench.example' }], privateKey: pair.privateKey, publicKey: pair.publicKey }));
    const issued = await fetch(`${server.httpUrl}/api/v1/applications/default/certificates`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ profile: 'default-tls', csr }),
    });
    if (issued.status !== 201) throw new Error(`seed issuance answered ${issued.status}: ${await issued.text()}`);
    await issued.arrayBuffer();
    const fillStart = Date.now();
    await fillInventory(db, N);
    const fillSeconds = (Date.now() - fillStart) / 1000;

    const in30Days = new Date(Date.now() + 30 * 86400_000).toISOString();
    // A name and a serial that exist exactly once (serials without leading zeros, as the API normalises them).
    const pick = Math.floor(N * 0.987);
    const rare = `host-${pick}.`;
    const serial = (await db.query<{ s: string }>("select serial_hex as s from certificates where serial_hex !~ '^0' and subject like 'CN=host-%' limit 1")).rows[0]!.s;
    const cursorAfter20 = await (async () => {
      let cursor: string | null | undefined;
      for (let i = 0; i < 20; i++) cursor = (await timed(`${server.httpUrl}/api/v1/certificates?limit=50${cursor ? `&cursor=${cursor}` : ''}`, auth)).body.nextCursor;
      return cursor!;
    })();
    const queries: [string, string, Record<string, string>][] = [
      ['baseline: GET /healthz', '/healthz', {}],
      ['newest page (50)', '/api/v1/certificates?limit=50', auth],
      ['page 21 by cursor', `/api/v1/certificates?limit=50&cursor=${cursorAfter20}`, auth],
      ['status=revoked', '/api/v1/certificates?status=revoked&limit=50', auth],
      ['expiring in 30 days', `/api/v1/certificates?expiringBefore=${in30Days}&limit=50`, auth],
      ['search, common ("host-12")', '/api/v1/certificates?q=host-12&limit=50', auth],
      [`search, one match ("${rare}")`, `/api/v1/certificates?q=${rare}&limit=50`, auth],
      ['search, no match ("nosuchname")', '/api/v1/certificates?q=nosuchname&limit=50', auth],
      ['serial lookup', `/api/v1/certificates?serial=${serial}`, auth],
    ];
    const rows: string[][] = [];
    let baseline = 0;
    for (const [name, path, headers] of queries) {
      for (let i = 0; i < 10; i++) await timed(`${server.httpUrl}${path}`, headers);
      const sample: number[] = [];
      let items = 0;
      for (let i = 0; i < QUERIES; i++) {
        const r = await timed(`${server.httpUrl}${path}`, headers);
        sample.push(r.ms);
        items = r.body.items?.length ?? 0;
      }
      const p50 = percentile(sample, 50), p95 = percentile(sample, 95);
      if (!baseline) baseline = p50;
      rows.push([name, String(items), p50.toFixed(2), p95.toFixed(2), (p50 / baseline).toFixed(1), path === '/healthz' ? '' : p95 <= TARGET_P95_MS ? 'yes' : 'NO']);
    }
    console.log(`\ninventory: ${N.toLocaleString('en-US')} certificates on PostgreSQL (filled in ${fillSeconds.toFixed(0)} s), ${QUERIES} sequential requests per query`);
    console.log(table(['query', 'items', 'p50 ms', 'p95 ms', 'p50 / baseline', `p95 <= ${TARGET_P95_MS} ms`], rows));
    console.log(`Reproduce: BENCH_INVENTORY_N=${N} BENCH_QUERIES=${QUERIES} TEST_DATABASE_URL=${BASE} node --import tsx bench/inventory.ts`);
  } finally {
    await db.end();
    await server.stop();
    await database.drop();
  }
}

await main();
