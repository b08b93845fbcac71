import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/http/app.ts';
import { TestAcmeClient } from './acme-test-client.ts';
import { ENGINES, createTestEnv, type TestEnv } from './helpers.ts';

const ORIGIN = 'https://certbridge.test';
const URN = 'urn:ietf:params:acme:error:';

type Case = [name: string, send: (c: TestAcmeClient) => Promise<{ status: number; json(): Record<string, unknown> }>, status: number, type: string];

describe.each(ENGINES)('ACME bad input on %s', (engine) => {
  let env: TestEnv;
  let app: FastifyInstance;
  let c: TestAcmeClient;
  beforeAll(async () => {
    env = await createTestEnv(engine);
    app = await buildApp(env.core, { publicUrl: ORIGIN, acme: { http01Port: 1, tlsAlpn01Port: 1 } });
    c = await TestAcmeClient.create(app, ORIGIN, 'default-tls');
    expect((await c.register()).status).toBe(201);
  });
  afterAll(async () => {
    await app?.close();
    await env?.close();
  });

  const orderUrl = () => `${c.base}/new-order`;
  const ids = { identifiers: [{ type: 'dns', value: 'bad.acme.test' }] };
  const cases: Case[] = [
    ['fail/no nonce', (x) => x.post(orderUrl(), ids, { nonce: null }), 400, 'badNonce'],
    ['fail/unknown nonce', (x) => x.post(orderUrl(), ids, { nonce: 'AAAAAAAAAAAAAAAAAAAAAA' }), 400, 'badNonce'],
    ['fail/replayed nonce', async (x) => {
      const nonce = await x.newNonce();
      expect((await x.post(x.kid!, null, { nonce })).status).toBe(200);
      return x.post(orderUrl(), ids, { nonce });
    }, 400, 'badNonce'],
    ['fail/url of another resource', (x) => x.post(orderUrl(), ids, { url: `${x.base}/new-account` }), 403, 'unauthorized'],
    ['fail/HS256 is not an accepted algorithm', async (x) => {
      const body = JSON.parse(await x.sign(orderUrl(), ids));
      const header = JSON.parse(Buffer.from(body.protected, 'base64url').toString());
      body.protected = Buffer.from(JSON.stringify({ ...header, alg: 'HS256' })).toString('base64url');
      return x.post(orderUrl(), null, { rawBody: JSON.stringify(body) });
    }, 400, 'badSignatureAlgorithm'],
    ['fail/alg none', async (x) => {
      const body = JSON.parse(await x.sign(orderUrl(), ids));
      const header = JSON.parse(Buffer.from(body.protected, 'base64url').toString());
      body.protected = Buffer.from(JSON.stringify({ ...header, alg: 'none' })).toString('base64url');
      return x.post(orderUrl(), null, { rawBody: JSON.stringify(body) });
    }, 400, 'badSignatureAlgorithm'],
    ['fail/both jwk and kid', (x) => x.post(orderUrl(), ids, { both: true }), 400, 'malformed'],
    ['fail/jwk where kid is required', (x) => x.post(orderUrl(), ids, { useJwk: true }), 400, 'malformed'],
    ['fail/payload not base64url', async (x) => {
      const body = JSON.parse(await x.sign(orderUrl(), ids));
      return x.post(orderUrl(), null, { rawBody: JSON.stringify({ ...body, payload: 'a+b/c=' }) });
    }, 400, 'malformed'],
    ['fail/signature altered', async (x) => {
      const body = JSON.parse(await x.sign(orderUrl(), ids));
      const sig = Buffer.from(body.signature, 'base64url');
      sig[5]! ^= 1;
      return x.post(orderUrl(), null, { rawBody: JSON.stringify({ ...body, signature: sig.toString('base64url') }) });
    }, 400, 'malformed'],
    ['fail/unprotected header present', async (x) => {
      const body = JSON.parse(await x.sign(orderUrl(), ids));
      return x.post(orderUrl(), null, { rawBody: JSON.stringify({ ...body, header: { kid: 'x' } }) });
    }, 400, 'malformed'],
    ['fail/body is not JSON', (x) => x.post(orderUrl(), null, { rawBody: '{not json' }), 400, 'malformed'],
    ['fail/application/json content type', (x) => x.post(orderUrl(), ids, { contentType: 'application/json' }), 415, 'malformed'],
    ['fail/oversized payload', (x) => x.post(orderUrl(), { identifiers: [{ type: 'dns', value: 'x'.repeat(70_000) }] }), 413, 'malformed'],
    ['fail/nonce that is not base64url (NUL, spaces)', (x) => x.post(orderUrl(), ids, { nonce: 'a\u0000b c' }), 400, 'badNonce'],
    ['fail/kid whose id is 36 dashes, not a UUID', async (x) => {
      const kid = x.kid;
      x.kid = `${x.base}/acct/${'-'.repeat(36)}`;
      try {
        return await x.post(orderUrl(), ids);
      } finally {
        x.kid = kid;
      }
    }, 400, 'accountDoesNotExist'],
    ['fail/unknown kid', async (x) => {
      const kid = x.kid;
      x.kid = `${x.base}/acct/00000000-0000-4000-8000-000000000000`;
      try {
        return await x.post(orderUrl(), ids);
      } finally {
        x.kid = kid;
      }
    }, 400, 'accountDoesNotExist'],
    ['fail/payload of the wrong shape', (x) => x.post(orderUrl(), { identifiers: 'bad.acme.test' }), 400, 'malformed'],
    ['fail/unknown directory', (x) => x.request('GET', `${ORIGIN}/acme/no-such-profile/directory`), 404, 'malformed'],
  ];

  it.each(cases)('%s', async (_name, send, status, type) => {
    const count = async () => (await sql<{ n: number }>`select count(*)::int as n from acme_orders`.execute(env.core.db)).rows[0]!.n;
    const before = await count();
    const res = await send(c);
    expect([res.status, res.json()['type']]).toEqual([status, `${URN}${type}`]);
    expect(await count()).toBe(before);
  });

  it('fail/concurrent requests share one nonce lookup: a nonce replayed in the same batch is granted once, bad neighbours fail alone', async () => {
    const other = await TestAcmeClient.create(app, ORIGIN, 'default-tls');
    expect((await other.register()).status).toBe(201);
    const [n1, n2, n3] = [await c.newNonce(), await c.newNonce(), await other.newNonce()];
    const kid = c.kid!;
    const strangerKid = `${c.base}/acct/00000000-0000-4000-8000-000000000000`;
    // Signed first, sent together: the server sees them in one turn of its event loop.
    const bodies = await Promise.all([
      c.sign(c.kid!, null, { nonce: n1 }), c.sign(c.kid!, null, { nonce: n1 }), other.sign(other.kid!, null, { nonce: n3 }),
      c.sign(c.kid!, null, { nonce: n2, extraHeader: {} }),
      (async () => { c.kid = strangerKid; try { return await c.sign(strangerKid, null, { nonce: await c.newNonce() }); } finally { c.kid = kid; } })(),
    ]);
    const urls = [c.kid!, c.kid!, other.kid!, c.kid!, strangerKid];
    const answers = await Promise.all(bodies.map((body, i) => c.request('POST', urls[i]!, body)));
    const outcome = answers.map((a) => (a.status === 200 ? 200 : `${a.status} ${String(a.json<Record<string, unknown>>()['type']).replace(URN, '')}`));
    expect(outcome.slice(0, 2).sort()).toEqual([200, '400 badNonce']);
    expect(outcome.slice(2)).toEqual([200, 200, '400 accountDoesNotExist']);
  });

  it('fail/a badNonce answer carries a fresh nonce the client can retry with', async () => {
    const res = await c.post(orderUrl(), ids, { nonce: 'AAAAAAAAAAAAAAAAAAAAAA' });
    expect(res.status).toBe(400);
    const retry = await c.post(orderUrl(), ids);
    expect(retry.status).toBe(201);
  });

  it('fail/rate limits per account and per identifier answer rateLimited (429) and create nothing', async () => {
    const limited = await buildApp(env.core, { publicUrl: ORIGIN, acme: { http01Port: 1, tlsAlpn01Port: 1, limits: { ordersPerAccountPerHour: 2, ordersPerIdentifierPerHour: 3 } } });
    try {
      const a = await TestAcmeClient.create(limited, ORIGIN, 'default-tls');
      const b = await TestAcmeClient.create(limited, ORIGIN, 'default-tls');
      await a.register();
      await b.register();
      const lim = [{ type: 'dns', value: 'limit.acme.test' }];
      const statuses = [(await a.newOrder(lim)).status, (await a.newOrder(lim)).status];
      const byAccount = await a.newOrder([{ type: 'dns', value: 'other.acme.test' }]);
      statuses.push((await b.newOrder(lim)).status);
      const byIdentifier = await b.newOrder(lim);
      expect(statuses).toEqual([201, 201, 201]);
      expect([byAccount.status, byAccount.json()['type'], byIdentifier.status, byIdentifier.json()['detail']]).toEqual([
        429, `${URN}rateLimited`, 429, 'limit.acme.test was ordered 3 times in the last hour; the limit is 3',
      ]);
    } finally {
      await limited.close();
    }
  });
});
