import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdcsSim } from '@certbridge/adcs-sim';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { buildCsr, generateKeyPair, parseCertificate, parseDn, pemDecodeAll } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/http/app.ts';
import { CA_CHECK_SECONDS, followIssuance } from '../src/enrollment/acme/acme-orders.ts';
import * as followsIssuance from '../src/db/migrations/0020-acme-order-follows-issuance.ts';
import { acmeDb } from '../src/enrollment/acme/acme-tables.ts';
import { addAdcsCa, addAdcsProfile, addConnection, createAdcsEnv, startSim, type AdcsEnv } from './adcs-fixtures.ts';
import { startTestDnsServer, type TestDnsServer } from './acme-dns-server.ts';
import { TestAcmeClient } from './acme-test-client.ts';
import { ENGINES } from './helpers.ts';
import { QUICK_RETRY_DELAYS_MS } from '../src/ca-backends/adcs/pending-schedule.ts';

const ORIGIN = 'https://certbridge.test';
const MINUTE = 60_000;

/**
 * ACME in front of ADCS (adcs-sim): a template that auto-issues, and one that needs a CA
 * manager — the order waits in `processing` with Retry-After until the background poll
 * resolves it, then turns `valid` (approved) or `invalid` (denied).
 */
describe.each(ENGINES)('ACME with ADCS behind it on %s', (engine) => {
  let sim: AdcsSim;
  let env: AdcsEnv;
  let app: FastifyInstance;
  let dns: TestDnsServer;
  let web: http.Server;
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    sim = await startSim();
    env = await createAdcsEnv(engine);
    const ca = await addAdcsCa(env, 'corp-adcs', [await addConnection(env, sim, 'sim-basic')]);
    await addAdcsProfile(env, 'adcs-web', ca, 'WebServer');
    await addAdcsProfile(env, 'adcs-approval', ca, 'ManagerApproval');
    dns = await startTestDnsServer();
    web = http.createServer((req, res) => {
      const body = tokens.get(req.url?.split('/').pop() ?? '');
      res.writeHead(body ? 200 : 404).end(body ?? '');
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    app = await buildApp(env.core, { publicUrl: ORIGIN, acme: { http01Port: (web.address() as AddressInfo).port, tlsAlpn01Port: 1, dnsResolver: dns.address, retryDelaysMs: [0] } });
  });
  afterAll(async () => {
    await app?.close();
    await new Promise((r) => web?.close(r));
    await dns?.close();
    await env?.close();
    await sim?.stop();
  });

  async function finalizeOrder(slug: string, name: string) {
    const c = await TestAcmeClient.create(app, ORIGIN, slug);
    expect((await c.register()).status).toBe(201);
    const res = await c.newOrder([{ type: 'dns', value: name }]);
    const orderUrl = String(res.headers['location']);
    const order = res.json<{ authorizations: string[]; finalize: string }>();
    const authz = (await c.post(order.authorizations[0]!, null)).json<{ challenges: { type: string; url: string; token: string }[] }>();
    const ch = authz.challenges.find((x) => x.type === 'http-01')!;
    tokens.set(ch.token, `${ch.token}.${await c.thumbprint()}`);
    await c.post(ch.url, {});
    expect((await c.pollUntil(orderUrl, ['pending']))['status']).toBe('ready');
    const pair = generateKeyPair('EC-P256');
    const csr = buildCsr({ subject: parseDn(`CN=${name}`), sans: [{ type: 'dns', value: name }], privateKey: pair.privateKey, publicKey: pair.publicKey });
    const fin = await c.post(order.finalize, { csr: Buffer.from(csr).toString('base64url') });
    return { c, orderUrl, fin };
  }
  const caRequestId = async (orderUrl: string) => {
    const row = await acmeDb(env.core.db).selectFrom('acme_orders').innerJoin('orders', 'orders.id', 'acme_orders.issuance_order_id')
      .select('orders.ca_request_id').where('acme_orders.id', '=', orderUrl.split('/').pop()!).executeTakeFirstOrThrow();
    return Number(row.ca_request_id);
  };
  /** The ACME order as stored (read behind the client's back) and the issuance order it follows. */
  const stored = async (orderUrl: string) => {
    const order = await acmeDb(env.core.db).selectFrom('acme_orders').selectAll().where('id', '=', orderUrl.split('/').pop()!).executeTakeFirstOrThrow();
    const issuance = await env.core.db.selectFrom('orders').selectAll().where('id', '=', order.issuance_order_id!).executeTakeFirstOrThrow();
    return { order, issuance };
  };
  const withoutTimes = <T extends { updated_at: Date }>({ updated_at: _, ...rest }: T) => rest;

  it('ok/an auto-issuing template: finalize answers valid and the chain comes from ADCS', async () => {
    const { c, fin } = await finalizeOrder('adcs-web', 'web.corp.acme.test');
    expect(fin.json()['status']).toBe('valid');
    const pem = (await c.post(String(fin.json()['certificate']), null)).body;
    expect(parseCertificate(pemDecodeAll(pem)[0]!).sans).toEqual([{ type: 'dns', value: 'web.corp.acme.test' }]);
  });

  it('ok/CA-manager approval: processing with Retry-After, then valid after the background poll', async () => {
    env.sleeps.length = 0;
    const { c, orderUrl, fin } = await finalizeOrder('adcs-approval', 'approve.corp.acme.test');
    expect([fin.status, fin.json()['status'], fin.headers['retry-after']]).toEqual([200, 'processing', String(CA_CHECK_SECONDS)]);
    // finalize answers at once: no quick re-asks of the pending request (certbot gives up after 45 s).
    expect(env.sleeps.filter((ms) => (QUICK_RETRY_DELAYS_MS as readonly number[]).includes(ms))).toEqual([]);
    const waiting = await c.post(orderUrl, null);
    expect([waiting.json()['status'], Number(waiting.headers['retry-after']) > 0]).toEqual(['processing', true]);
    await sim.approve(await caRequestId(orderUrl));
    env.clock.advance(2 * MINUTE);
    await env.core.adcs.pending.runDue();
    // The background poll's own write made the ACME order valid: no client had to poll for it.
    const { order: row, issuance } = await stored(orderUrl);
    expect([row.status, issuance.status, row.certificate_id]).toEqual(['valid', 'issued', issuance.certificate_id]);
    const done = (await c.post(orderUrl, null)).json<{ status: string; certificate: string }>();
    expect([done.status, done.certificate.endsWith(`/cert/${issuance.certificate_id}`)]).toEqual(['valid', true]);
    const pem = await c.post(done.certificate, null);
    expect(parseCertificate(pemDecodeAll(pem.body)[0]!).sans).toEqual([{ type: 'dns', value: 'approve.corp.acme.test' }]);
  });

  it('ok/a client polling a processing order asks the CA itself, at most every Retry-After seconds', async () => {
    const { c, orderUrl } = await finalizeOrder('adcs-approval', 'poll.corp.acme.test');
    const attempts = async () => Number((await acmeDb(env.core.db).selectFrom('acme_orders').innerJoin('orders', 'orders.id', 'acme_orders.issuance_order_id')
      .select('orders.attempts').where('acme_orders.id', '=', orderUrl.split('/').pop()!).executeTakeFirstOrThrow()).attempts);
    const submitted = await attempts();
    const first = await c.post(orderUrl, null);
    const second = await c.post(orderUrl, null);
    expect([first.json()['status'], first.headers['retry-after'], second.json()['status'], await attempts() - submitted]).toEqual(['processing', '5', 'processing', 1]);
    await sim.approve(await caRequestId(orderUrl));
    env.clock.advance(CA_CHECK_SECONDS * 1000);
    const done = (await c.post(orderUrl, null)).json<{ status: string; certificate: string }>();
    expect([done.status, await attempts() - submitted]).toEqual(['valid', 2]);
  });

  it('fail/CA-manager denial: the processing order becomes invalid with the disposition', async () => {
    const { c, orderUrl } = await finalizeOrder('adcs-approval', 'deny.corp.acme.test');
    sim.deny(await caRequestId(orderUrl));
    env.clock.advance(2 * MINUTE);
    await env.core.adcs.pending.runDue();
    const { order: row, issuance } = await stored(orderUrl);
    const detail = `the CA denied the request: ${issuance.disposition}`;
    expect([row.status, row.error]).toEqual(['invalid', { type: 'urn:ietf:params:acme:error:unauthorized', detail, status: 403 }]);
    const done = (await c.post(orderUrl, null)).json<{ status: string; error: unknown }>();
    expect([done.status, done.error]).toEqual(['invalid', row.error]);
  });

  it('ok/the ACME order follows its issuance order to every end (approved, denied, cancelled, pending lifetime over), as the order computed in memory says', async () => {
    // The trigger (migration 0020) and followIssuance (what finalize and polls answer) must agree.
    const ends: [string, (orderUrl: string) => Promise<void>][] = [
      ['approved', async (orderUrl) => { await sim.approve(await caRequestId(orderUrl)); env.clock.advance(2 * MINUTE); await env.core.adcs.pending.runDue(); }],
      ['denied', async (orderUrl) => { sim.deny(await caRequestId(orderUrl)); env.clock.advance(2 * MINUTE); await env.core.adcs.pending.runDue(); }],
      ['cancelled', async (orderUrl) => { expect((await env.api('DELETE', `/api/v1/orders/${(await stored(orderUrl)).issuance.id}`)).statusCode).toBe(200); }],
      // Last: the clock moves past the profile's pending lifetime (30 days), and the order fails.
      ['expired', async () => { env.clock.advance(31 * 24 * 60 * MINUTE); await env.core.adcs.pending.runDue(); }],
    ];
    for (const [end, reach] of ends) {
      const { orderUrl } = await finalizeOrder('adcs-approval', `${end}.follow.corp.acme.test`);
      const before = await stored(orderUrl);
      expect([end, before.order.status, before.issuance.status]).toEqual([end, 'processing', 'pending']);
      await reach(orderUrl);
      const after = await stored(orderUrl);
      expect([end, after.order.status]).toEqual([end, end === 'approved' ? 'valid' : 'invalid']);
      if (end === 'cancelled') expect(after.order.error?.detail).toMatch(/^the CA did not issue: cancelled by /);
      if (end === 'expired') expect(after.order.error?.detail).toMatch(/^the CA did not issue: still pending at the CA after 30 days/);
      expect(withoutTimes(followIssuance(before.order, after.issuance))).toEqual(withoutTimes(after.order));
    }
  });

  it('ok/migration 0020 moves an order whose issuance order was settled before it existed', async () => {
    const { orderUrl } = await finalizeOrder('adcs-approval', 'upgrade.corp.acme.test');
    // Before 0020, an approval left the ACME order processing until a client's poll wrote it.
    await followsIssuance.down(env.core.db as Kysely<unknown>);
    await sim.approve(await caRequestId(orderUrl));
    env.clock.advance(2 * MINUTE);
    await env.core.adcs.pending.runDue();
    const before = await stored(orderUrl);
    expect([before.order.status, before.issuance.status]).toEqual(['processing', 'issued']);
    await followsIssuance.up(env.core.db as Kysely<unknown>);
    const after = await stored(orderUrl);
    expect([after.order.status, after.order.certificate_id]).toEqual(['valid', after.issuance.certificate_id]);
  });
});
