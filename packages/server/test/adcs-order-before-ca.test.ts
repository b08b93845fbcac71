/**
 * Crash safety of ADCS issuance now that the backend gets ready (server list, rate-cap token)
 * while the order is being written (CaBackend.issueWhileRecording): ADCS hears of a request only
 * after its order's write has returned, and never when that write fails. That write commits
 * without waiting for the WAL flush; the write that settles the order waits for it
 * (orders-repository's recordBeforeRemoteCa).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sql, type Kysely, type KyselyPlugin, type OperationNode, type QueryId } from 'kysely';
import { X509Certificate } from 'node:crypto';
import type { AdcsSim } from '@certbridge/adcs-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap } from '../src/bootstrap.ts';
import { createCore, type Core } from '../src/core.ts';
import { createSealer } from '../src/crypto/sealer.ts';
import { migrateToLatest } from '../src/db/database.ts';
import { buildApp } from '../src/http/app.ts';
import { csrPem, SIM_PASSWORD, startSim } from './adcs-fixtures.ts';
import { bearer, ENGINES, freshDatabase, PKI_URL } from './helpers.ts';

const isOrderInsert = (node: OperationNode): boolean =>
  node.kind === 'InsertQueryNode' && (node as { into?: { table?: { identifier?: { name?: string } } } }).into?.table?.identifier?.name === 'orders';

/** Holds back or fails the result of `insert into orders`, as a slow or failing database would. */
function orderWriteControl() {
  const inserts = new Set<QueryId>();
  const control = {
    /** Set: the next order insert is refused before it reaches the database. */
    failNext: false,
    /** Set: order inserts that have been executed wait for this promise before returning. */
    hold: null as Promise<void> | null,
    /** Resolves when an executed order insert starts waiting on `hold`. */
    onHeld: null as (() => void) | null,
    plugin: {
      transformQuery: ({ node, queryId }) => {
        if (isOrderInsert(node)) {
          if (control.failNext) {
            control.failNext = false;
            throw new Error('order write refused by the test');
          }
          inserts.add(queryId);
        }
        return node;
      },
      transformResult: async ({ result, queryId }) => {
        if (inserts.delete(queryId) && control.hold) {
          control.onHeld?.();
          await control.hold;
        }
        return result;
      },
    } satisfies KyselyPlugin,
  };
  return control;
}

const subjectsAtCa = (sim: AdcsSim): string[] =>
  sim.listRequests().filter((r) => r.certificate).map((r) => new X509Certificate(Buffer.from(r.certificate!, 'base64')).subject);

describe.each(ENGINES)('ADCS order recorded before the CA is asked on %s', (engine) => {
  let sim: AdcsSim;
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let core: Core;
  let app: FastifyInstance;
  let token: string;
  let dataDir: string;
  const control = orderWriteControl();

  const issue = (cn: string) => app.inject({ method: 'POST', url: '/api/v1/applications/default/certificates', headers: bearer(token), payload: { profile: 'order-first', csr: csrPem(cn) } });
  const api = async (url: string, payload: object, method: 'POST' | 'PATCH' = 'POST') => {
    const res = await app.inject({ method, url, headers: bearer(token), payload });
    if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    return res.json();
  };

  beforeAll(async () => {
    sim = await startSim();
    db = await freshDatabase(engine);
    await migrateToLatest(db.handle.db);
    core = createCore({ db: db.handle.db.withPlugin(control.plugin), sealer: createSealer(randomBytes(32)), pkiUrl: PKI_URL });
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-order-first-'));
    token = (await bootstrap(core, { engine, dataDir, pkiUrl: PKI_URL })).adminToken!;
    app = await buildApp(core, { publicUrl: 'https://certbridge.test' });
    const conn = await api('/api/v1/connections', { name: 'order-first-sim', type: 'adcs', url: sim.url, domain: 'CORP', username: 'alice', password: SIM_PASSWORD, auth: 'basic', caPem: sim.tlsCaPem });
    const ca = await api('/api/v1/cas/adcs', { name: 'order-first-adcs', servers: [{ connection: conn.id, priority: 1 }] });
    await api('/api/v1/profiles', { slug: 'order-first', ca: ca.id, policy: 'permissive', template: 'WebServer' });
    await api('/api/v1/applications/default', { profiles: ['default-tls', 'order-first'] }, 'PATCH');
  });
  afterAll(async () => {
    await app?.close();
    await core?.adcs.runtime.close();
    await db?.drop();
    await sim?.stop();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('ok/the-ca-is-asked-only-after-the-order-write-returned', async () => {
    let release!: () => void;
    control.hold = new Promise<void>((r) => { release = r; });
    const held = new Promise<void>((r) => { control.onHeld = r; });
    const answer = issue('held.corp.example.test');
    await held;
    // The order is committed and its write is held back: long enough for a backend that did not
    // wait (server list and token are cached or one round trip) to have reached the emulator.
    // (On PGlite the held write also holds its only connection, so there the backend's own token
    // query waits too; PostgreSQL's pool is where this case can tell the difference.)
    await new Promise((r) => setTimeout(r, 400));
    const whileHeld = subjectsAtCa(sim).includes('CN=held.corp.example.test');
    control.hold = null;
    release();
    const res = await answer;
    expect({ whileHeld, status: res.statusCode, afterwards: subjectsAtCa(sim).includes('CN=held.corp.example.test') })
      .toEqual({ whileHeld: false, status: 201, afterwards: true });
  });

  it('fail/an-order-that-cannot-be-written-never-reaches-the-ca', async () => {
    control.failNext = true;
    const res = await issue('unwritten.corp.example.test');
    const orders = await db.handle.db.selectFrom('orders').select('id').where('common_name', '=', 'unwritten.corp.example.test').execute();
    expect({ failed: res.statusCode >= 500, orders: orders.length, atCa: subjectsAtCa(sim).includes('CN=unwritten.corp.example.test') })
      .toEqual({ failed: true, orders: 0, atCa: false });
  });

  it('ok/the-order-commits-without-the-wal-flush-its-outcome-with-it', async () => {
    // The commit mode of every transaction that writes an order, read inside it by a row trigger.
    const raw = db.handle.db as unknown as Kysely<unknown>;
    await sql`create table test_order_commit_modes (seq serial primary key, op text, status text, mode text)`.execute(raw);
    await sql`create function test_order_commit_mode() returns trigger language plpgsql as $$
      begin
        insert into test_order_commit_modes (op, status, mode) values (tg_op, new.status, current_setting('synchronous_commit'));
        return new;
      end $$`.execute(raw);
    await sql`create trigger test_order_commit_mode after insert or update on orders for each row execute function test_order_commit_mode()`.execute(raw);
    try {
      const res = await issue('flush.corp.example.test');
      const modes = await sql<{ op: string; status: string; mode: string }>`select op, status, mode from test_order_commit_modes order by seq`.execute(raw);
      // The pooled connections keep the server's setting: the change lasted one transaction.
      const after = await Promise.all(Array.from({ length: 4 }, () => sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(raw)));
      expect({ status: res.statusCode, modes: modes.rows, after: after.map((r) => r.rows[0]?.synchronous_commit) }).toEqual({
        status: 201,
        modes: [{ op: 'INSERT', status: 'pending', mode: 'off' }, { op: 'UPDATE', status: 'issued', mode: 'on' }],
        after: ['on', 'on', 'on', 'on'],
      });
    } finally {
      await sql`drop trigger test_order_commit_mode on orders`.execute(raw);
      await sql`drop function test_order_commit_mode()`.execute(raw);
      await sql`drop table test_order_commit_modes`.execute(raw);
    }
  });
});
