/**
 * The ADCS rate-cap token taken inside the order's own write (adcs-runtime.ts startRecording,
 * rate-limiter.ts takeStatement, CaBackend.issueWhileRecording's RecordOrder): one round trip
 * fewer per issuance, with the same cap and the same durable commit of the order.
 */
import { randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sql, type KyselyPlugin, type OperationNode, type RawNode } from 'kysely';
import type { AdcsSim } from '@certbridge/adcs-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap } from '../src/bootstrap.ts';
import { createRateLimiter } from '../src/ca-backends/adcs/rate-limiter.ts';
import { createCore, type Core } from '../src/core.ts';
import { createSealer } from '../src/crypto/sealer.ts';
import { migrateToLatest } from '../src/db/database.ts';
import { buildApp } from '../src/http/app.ts';
import { csrPem, SIM_PASSWORD, startSim } from './adcs-fixtures.ts';
import { bearer, ENGINES, freshDatabase, PKI_URL } from './helpers.ts';

type Statement = 'token' | 'order' | 'order+alongside';

/** Names the statements that take a token or write an order, in the order they are sent. */
function statementLog() {
  const log: Statement[] = [];
  const plugin: KyselyPlugin = {
    transformQuery: ({ node }) => {
      const kind = classify(node);
      if (kind) log.push(kind);
      return node;
    },
    transformResult: async ({ result }) => result,
  };
  return { log, plugin };
}

function classify(node: OperationNode): Statement | undefined {
  if (node.kind === 'RawNode' && (node as RawNode).sqlFragments.join('?').includes('insert into adcs_server_state')) return 'token';
  if (node.kind === 'InsertQueryNode' && (node as { into?: { table?: { identifier?: { name?: string } } } }).into?.table?.identifier?.name === 'orders') {
    return (node as { with?: unknown }).with ? 'order+alongside' : 'order';
  }
  return undefined;
}

const atCa = (sim: AdcsSim, suffix: string): number[] => sim.listRequests()
  .filter((r) => r.certificate && new X509Certificate(Buffer.from(r.certificate, 'base64')).subject.endsWith(suffix))
  .map((r) => Date.parse(r.submittedAt)).sort((a, b) => a - b);

describe.each(ENGINES)('ADCS rate-cap token in the order write on %s', (engine) => {
  let sim: AdcsSim;
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let core: Core;
  let app: FastifyInstance;
  let token: string;
  let dataDir: string;
  let connection: string;
  const statements = statementLog();

  const issue = (profile: string, cn: string) =>
    app.inject({ method: 'POST', url: '/api/v1/applications/default/certificates', headers: bearer(token), payload: { profile, csr: csrPem(cn) } });
  const api = async (url: string, payload: object, method: 'POST' | 'PATCH' = 'POST') => {
    const res = await app.inject({ method, url, headers: bearer(token), payload });
    if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    return res.json();
  };
  const adcsProfile = async (slug: string, maxRequestsPerSecond: number) => {
    const conn = await api('/api/v1/connections', { name: `${slug}-sim`, type: 'adcs', url: sim.url, domain: 'CORP', username: 'alice', password: SIM_PASSWORD, auth: 'basic', caPem: sim.tlsCaPem });
    const ca = await api('/api/v1/cas/adcs', { name: `${slug}-adcs`, servers: [{ connection: conn.id, priority: 1, maxRequestsPerSecond }] });
    await api('/api/v1/profiles', { slug, ca: ca.id, policy: 'permissive', template: 'WebServer' });
    return conn.id as string;
  };

  beforeAll(async () => {
    sim = await startSim();
    db = await freshDatabase(engine);
    await migrateToLatest(db.handle.db);
    core = createCore({ db: db.handle.db.withPlugin(statements.plugin), sealer: createSealer(randomBytes(32)), pkiUrl: PKI_URL });
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-token-in-order-'));
    token = (await bootstrap(core, { engine, dataDir, pkiUrl: PKI_URL })).adminToken!;
    app = await buildApp(core, { publicUrl: 'https://certbridge.test' });
    connection = await adcsProfile('token-fast', 100);
    await adcsProfile('token-slow', 1);
    await api('/api/v1/applications/default', { profiles: ['default-tls', 'token-fast', 'token-slow'] }, 'PATCH');
  });
  afterAll(async () => {
    await app?.close();
    await core?.adcs.runtime.close();
    await db?.drop();
    await sim?.stop();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('ok/with-the-server-list-cached-the-token-rides-in-the-order-write', async () => {
    // The first issuance reads the CA's server list; the next ones find it cached.
    expect((await issue('token-fast', 'first.fast.corp.example.test')).statusCode).toBe(201);
    const bucket = async () => {
      const row = await db.handle.db.selectFrom('adcs_server_state').select(['tokens', 'tokens_at']).where('connection_id', '=', connection).executeTakeFirstOrThrow();
      return { tokens: Number(row.tokens), at: row.tokens_at!.getTime() };
    };
    const before = await bucket();
    statements.log.length = 0;
    const res = await issue('token-fast', 'second.fast.corp.example.test');
    const sent = [...statements.log];
    const after = await bucket();
    // The bucket (100/s) refilled since the last take, then gave one token (timestamps read in whole milliseconds).
    const expected = Math.min(100, before.tokens + ((after.at - before.at) / 1000) * 100) - 1;
    expect({ status: res.statusCode, sent, oneTokenTaken: after.at > before.at && Math.abs(after.tokens - expected) < 0.2 })
      .toEqual({ status: 201, sent: ['order+alongside'], oneTokenTaken: true });
  });

  it('ok/an-empty-bucket-makes-the-next-issuances-wait-for-their-tokens', async () => {
    // 1 request per second, bucket of 1: the token taken in each order write is granted only
    // when a second has passed, else the request waits for one like any other.
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push((await issue('token-slow', `s${i}.slow.corp.example.test`)).statusCode);
    const times = atCa(sim, '.slow.corp.example.test');
    expect({ answers, atCa: times.length, spanAtLeast1900ms: times.at(-1)! - times[0]! >= 1_900 }).toEqual({ answers: [201, 201, 201], atCa: 3, spanAtLeast1900ms: true });
  });

  it('ok/the-token-statement-leaves-the-order-commit-durable-and-skips-a-deleted-server', async () => {
    const limiter = createRateLimiter(db.handle.db, async () => {});
    const run = (server: string) => db.handle.db.transaction().execute(async (trx) => {
      const granted = await sql<{ n: number }>`with alongside as (${limiter.takeStatement(server, 10)}) select count(*)::int as n from alongside`.execute(trx);
      const setting = await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(trx);
      return { granted: granted.rows[0]!.n, synchronousCommit: setting.rows[0]!.synchronous_commit };
    });
    expect({ known: await run(connection), deleted: await run(randomUUID()) })
      .toEqual({ known: { granted: 1, synchronousCommit: 'on' }, deleted: { granted: 0, synchronousCommit: 'on' } });
  });
});
