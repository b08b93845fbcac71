import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { buildCsr, generateKeyPair, parseDn, pemEncode } from '@certbridge/pki';
import { afterAll, describe, expect, it } from 'vitest';
import { createCore } from '../src/core.ts';
import { createSealer } from '../src/crypto/sealer.ts';
import { openDatabase, type DatabaseHandle } from '../src/db/database.ts';
import { ENGINES, freshDatabase } from './helpers.ts';
import { spawnServer, type ServerProcess } from './reliability-process.ts';

/**
 * kill -9 of a real `certbridge serve` during concurrent issuances (issue 10), on PGlite and
 * PostgreSQL. After a restart on the same storage: the server answers; every order is terminal, or
 * stranded before the CA was asked (pending without a CA request id, which the product's own
 * recovery, failStrandedOrders, turns failed); every certificate a client received is in the
 * inventory under its order; no order has two certificates and no certificate lacks its order.
 * CI size: RELIABILITY_ISSUANCES=100; `npm run bench:reliability` runs 1,000.
 */
const N = Number(process.env.RELIABILITY_ISSUANCES ?? 100);
const TERMINAL = ['issued', 'denied', 'failed', 'cancelled'];
const run = randomBytes(3).toString('hex');
const csrs = Array.from({ length: N }, (_, i) => {
  const pair = generateKeyPair('EC-P256');
  const name = `kill-${run}-${i}.test`;
  return pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn(`CN=${name}`), sans: [{ type: 'dns', value: name }], ...pair }));
});

type Answer = { status: number; serial?: string; body: string } | { status: 'aborted' };

describe.each(ENGINES)('kill -9 during concurrent issuances on %s', (engine) => {
  let server: ServerProcess | undefined;
  let pgUrl: string | undefined;
  let dropDb: (() => Promise<void>) | undefined;
  const dataDirs: string[] = [];
  afterAll(async () => {
    await server?.stop();
    await dropDb?.();
    await Promise.all(dataDirs.map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  it(`ok/${N} issuances, kill -9 after the first answers, restart: nothing lost, nothing twice`, async () => {
    if (engine === 'postgres') {
      const fresh = await freshDatabase('postgres');
      await fresh.handle.close();
      pgUrl = fresh.url;
      dropDb = fresh.drop;
    }
    server = await spawnServer(pgUrl ? { databaseUrl: pgUrl } : {});
    const dataDir = server.dataDir;
    dataDirs.push(dataDir);
    const started = Date.now();
    let answered = 0;
    const answers: Promise<Answer>[] = csrs.map(async (csr): Promise<Answer> => {
      try {
        const res = await server!.api('POST', '/api/v1/applications/default/certificates', { profile: 'default-tls', csr });
        answered++;
        return { status: res.status, body: res.text, serial: res.status === 201 ? (res.json()['certificate'] as { serial: string }).serial : undefined };
      } catch {
        return { status: 'aborted' as const };
      }
    });
    // Kill once a tenth has been answered (or after 20 s): the rest are in flight in every stage.
    while (answered < Math.max(1, N / 10) && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 5));
    await server.kill9();
    const results = await Promise.all(answers);
    const received = results.filter((a): a is Extract<Answer, { serial?: string }> => a.status !== 'aborted');
    // Everything answered before the kill is an issuance; nothing answered an error.
    expect(received.filter((a) => a.status !== 201).map((a) => `${a.status} ${a.body}`)).toEqual([]);
    expect(received.length).toBeGreaterThan(0);
    expect(received.length).toBeLessThan(N);

    server = await server.restart();
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const after = await server.api('POST', '/api/v1/applications/default/certificates', { profile: 'default-tls', csr: csrs[0] });
    expect(after.status).toBe(201);
    await server.stop();
    server = undefined;

    const handle: DatabaseHandle = pgUrl ? await openDatabase({ url: pgUrl }) : await openDatabase({ dataDir });
    try {
      const db = handle.db;
      // The product's recovery for orders recorded before the CA was asked (run by its cron after 10 min).
      const core = createCore({ db, sealer: createSealer(randomBytes(32)), pkiUrl: 'http://127.0.0.1' });
      const stranded = await core.issuance.failStrandedOrders(0);
      const orders = await db.selectFrom('orders').select(['id', 'status', 'certificate_id', 'common_name']).where('common_name', 'like', `kill-${run}-%`).execute();
      const certs = await db.selectFrom('certificates').select(['id', 'order_id', 'serial_hex']).where('subject', 'like', `%kill-${run}-%`).execute();
      expect(orders.filter((o) => !TERMINAL.includes(o.status))).toEqual([]);
      const issued = orders.filter((o) => o.status === 'issued');
      // Each issued order has its certificate, each certificate its issued order, one each.
      expect(certs.map((c) => c.order_id).sort()).toEqual(issued.map((o) => o.id).sort());
      expect(issued.map((o) => o.certificate_id).sort()).toEqual(certs.map((c) => c.id).sort());
      expect(new Set(certs.map((c) => c.serial_hex)).size).toBe(certs.length);
      // Every certificate a client received is in the inventory.
      const serials = new Set(certs.map((c) => c.serial_hex));
      expect(received.filter((a) => !serials.has(a.serial!)).map((a) => a.serial)).toEqual([]);
      // Orders: one per request that reached the server, the post-restart one included.
      expect(orders.length).toBeLessThanOrEqual(N + 1);
      expect(issued.length).toBeGreaterThanOrEqual(received.length + 1);
      const figure = { engine, n: N, answeredBeforeKill: received.length, orders: orders.length, issued: issued.length, strandedFailed: stranded, lost: 0 };
      console.log(`reliability-kill ${JSON.stringify(figure)}`);
    } finally {
      await handle.close();
    }
  }, 300_000);
});
