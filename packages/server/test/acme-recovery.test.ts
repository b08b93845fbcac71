import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore } from '../src/core.ts';
import { createSealer } from '../src/crypto/sealer.ts';
import { createAcmeModule } from '../src/enrollment/acme/acme-module.ts';
import { STRANDED_FINALIZE_MS } from '../src/enrollment/acme/acme-orders.ts';
import { acmeDb } from '../src/enrollment/acme/acme-tables.ts';
import { buildApp } from '../src/http/app.ts';
import { startTestDnsServer, type TestDnsServer } from './acme-dns-server.ts';
import { TestAcmeClient } from './acme-test-client.ts';
import { ENGINES, PKI_URL, createTestEnv, type TestEnv } from './helpers.ts';

const ORIGIN = 'https://certbridge.test';
const HOUR = 3_600_000;

/**
 * Work stranded by process death. Validations: the database holds challenges left `processing` by a
 * server that died mid-validation. A freshly started server (new core, new app, same database)
 * resumes them, or fails them with a clear error when they can no longer succeed; a claim that
 * is recent (a live instance) is left alone, and two instances never both take one over. Finalize: an order
 * left `processing` by a finalize that died before the CA was asked ends `invalid` when polled.
 */
describe.each(ENGINES)('ACME work stranded by process death on %s', (engine) => {
  let env: TestEnv;
  let first: FastifyInstance;
  let dns: TestDnsServer;
  let web: http.Server;
  let http01Port = 0;
  const tokens = new Map<string, string>();
  const started: FastifyInstance[] = [];

  beforeAll(async () => {
    env = await createTestEnv(engine);
    dns = await startTestDnsServer();
    web = http.createServer((req, res) => {
      const body = tokens.get(req.url?.split('/').pop() ?? '');
      res.writeHead(body ? 200 : 404).end(body ?? '');
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    http01Port = (web.address() as AddressInfo).port;
    first = await buildApp(env.core, { publicUrl: ORIGIN, acme: { http01Port, tlsAlpn01Port: 1, dnsResolver: dns.address, retryDelaysMs: [0] } });
  });
  afterAll(async () => {
    for (const app of started) await app.close();
    await first?.close();
    await new Promise((r) => web?.close(r));
    await dns?.close();
    await env?.close();
  });

  const db = () => acmeDb(env.core.db);
  const acmeOptions = () => ({ http01Port, tlsAlpn01Port: 1, dnsResolver: dns.address, retryDelaysMs: [0] });
  /** A server process started anew on the same database: its own core, no memory of the first. */
  async function freshServer(): Promise<FastifyInstance> {
    const core = createCore({ db: env.handle.db, sealer: createSealer(env.masterKey), pkiUrl: PKI_URL });
    const app = await buildApp(core, { publicUrl: ORIGIN, acme: acmeOptions() });
    started.push(app);
    await app.ready();
    return app;
  }

  /** An order whose http-01 challenge a dead server had claimed `claimedAgoMs` ago (null: before claims were dated). */
  async function stranded(name: string, claimedAgoMs: number | null) {
    const c = await TestAcmeClient.create(first, ORIGIN, 'default-tls');
    await c.register();
    const res = await c.newOrder([{ type: 'dns', value: name }]);
    const authzId = res.json<{ authorizations: string[] }>().authorizations[0]!.split('/').pop()!;
    const ch = await db().selectFrom('acme_challenges').selectAll().where('authorization_id', '=', authzId).where('type', '=', 'http-01').executeTakeFirstOrThrow();
    tokens.set(ch.token, `${ch.token}.${await c.thumbprint()}`);
    const claimedAt = claimedAgoMs === null ? null : new Date(Date.now() - claimedAgoMs);
    await db().updateTable('acme_challenges').set({ status: 'processing', claimed_at: claimedAt }).where('id', '=', ch.id).execute();
    return { orderId: String(res.headers['location']).split('/').pop()!, authzId, challengeId: ch.id };
  }
  const states = async (s: { orderId: string; authzId: string; challengeId: string }) => {
    const [order, authz, ch] = await Promise.all([
      db().selectFrom('acme_orders').select(['status', 'error']).where('id', '=', s.orderId).executeTakeFirstOrThrow(),
      db().selectFrom('acme_authorizations').select('status').where('id', '=', s.authzId).executeTakeFirstOrThrow(),
      db().selectFrom('acme_challenges').select(['status', 'error']).where('id', '=', s.challengeId).executeTakeFirstOrThrow(),
    ]);
    return { order: order.status, authz: authz.status, challenge: ch.status, error: ch.error?.detail ?? null };
  };
  async function settled(s: Parameters<typeof states>[0]) {
    for (let i = 0; i < 200; i++) {
      // The three reads of `states` run side by side and may straddle the settling commit: once
      // the challenge has left processing, read all three again (after the commit).
      if ((await states(s)).challenge !== 'processing') return states(s);
      await new Promise((r) => setTimeout(r, 25));
    }
    return states(s);
  }

  it('ok/a challenge stranded an hour ago is resumed by a freshly started server and the order becomes ready', async () => {
    const s = await stranded('resume.acme.test', HOUR);
    await freshServer();
    expect(await settled(s)).toEqual({ order: 'ready', authz: 'valid', challenge: 'valid', error: null });
  });

  it('ok/a processing challenge from before claims were dated (no claim time) is resumed too', async () => {
    const s = await stranded('undated.acme.test', null);
    await freshServer();
    expect(await settled(s)).toEqual({ order: 'ready', authz: 'valid', challenge: 'valid', error: null });
  });

  it('fail/a stranded challenge whose authorization expired meanwhile is failed with a clear error', async () => {
    const s = await stranded('expired.acme.test', HOUR);
    await db().updateTable('acme_authorizations').set({ expires_at: new Date(Date.now() - 60_000) }).where('id', '=', s.authzId).execute();
    await freshServer();
    expect(await settled(s)).toEqual({
      order: 'invalid', authz: 'invalid', challenge: 'invalid', error: 'the validation was interrupted by a server restart and cannot resume: the authorization has expired',
    });
  });

  it('ok/a claim made seconds ago (a live instance is validating) is left alone', async () => {
    const s = await stranded('alive.acme.test', 5_000);
    await freshServer();
    await new Promise((r) => setTimeout(r, 300));
    expect(await states(s)).toEqual({ order: 'pending', authz: 'pending', challenge: 'processing', error: null });
    await db().updateTable('acme_challenges').set({ status: 'invalid' }).where('id', '=', s.challengeId).execute();
  });

  it('ok/two instances recovering at once take a stranded challenge over exactly once', async () => {
    const s = await stranded('once.acme.test', HOUR);
    const modules = [0, 1].map(() => createAcmeModule(createCore({ db: env.handle.db, sealer: createSealer(env.masterKey), pkiUrl: PKI_URL }), { publicUrl: ORIGIN, ...acmeOptions() }));
    const taken = await Promise.all(modules.map((m) => m.runner.recoverStranded()));
    await Promise.all(modules.map((m) => m.runner.drain()));
    expect([taken.reduce((a, b) => a + b, 0), await states(s)]).toEqual([1, { order: 'ready', authz: 'valid', challenge: 'valid', error: null }]);
  });

  it('fail/an order whose finalize died before the CA was asked ends invalid; one claimed moments ago keeps waiting', async () => {
    // Claimed (processing, linked to the issuance order id it was to get) by a finalize that never wrote that order.
    const finalizedAgo = async (name: string, agoMs: number) => {
      const c = await TestAcmeClient.create(first, ORIGIN, 'default-tls');
      await c.register();
      const orderUrl = String((await c.newOrder([{ type: 'dns', value: name }])).headers['location']);
      await db().updateTable('acme_orders').set({ status: 'processing', issuance_order_id: randomUUID(), updated_at: new Date(Date.now() - agoMs) })
        .where('id', '=', orderUrl.split('/').pop()!).execute();
      return c.post(orderUrl, null);
    };
    const dead = await finalizedAgo('dead-finalize.acme.test', STRANDED_FINALIZE_MS + 60_000);
    expect([dead.json()['status'], dead.json()['error']]).toEqual(['invalid', {
      type: 'urn:ietf:params:acme:error:serverInternal', detail: 'the server stopped while finalizing this order, before the CA was asked; create a new order', status: 500,
    }]);
    const live = await finalizedAgo('live-finalize.acme.test', 1_000);
    expect([live.json()['status'], Number(live.headers['retry-after']) > 0]).toEqual(['processing', true]);
  });
});
