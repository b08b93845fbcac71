import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore } from '../src/core.ts';
import { createSealer } from '../src/crypto/sealer.ts';
import { buildApp } from '../src/http/app.ts';
import { TestAcmeClient } from './acme-test-client.ts';
import { ENGINES, PKI_URL, bearer, createTestEnv, type TestEnv } from './helpers.ts';

const ORIGIN = 'https://certbridge.test';

/** Two server instances on one database: nonces, accounts and orders are shared state. */
describe.each(ENGINES)('ACME across two instances on %s', (engine) => {
  let env: TestEnv;
  let one: FastifyInstance;
  let two: FastifyInstance;
  beforeAll(async () => {
    env = await createTestEnv(engine);
    const acme = { http01Port: 1, tlsAlpn01Port: 1 };
    one = await buildApp(env.core, { publicUrl: ORIGIN, acme });
    two = await buildApp(createCore({ db: env.handle.db, sealer: createSealer(env.masterKey), pkiUrl: PKI_URL }), { publicUrl: ORIGIN, acme });
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await env?.close();
  });

  it('ok/a nonce from one instance is accepted once by the other, then refused by both', async () => {
    const a = await TestAcmeClient.create(one, ORIGIN, 'default-tls');
    const b = await TestAcmeClient.create(two, ORIGIN, 'default-tls');
    const nonce = await b.newNonce();
    const first = await a.register();
    expect(first.status).toBe(201);
    const used = await a.post(a.kid!, null, { nonce });
    b.key = a.key;
    b.kid = a.kid;
    const replayed = await b.post(a.kid!, null, { nonce });
    expect([used.status, replayed.status, replayed.json()['type']]).toEqual([200, 400, 'urn:ietf:params:acme:error:badNonce']);
  });

  it('ok/an account and order created on one instance are served by the other', async () => {
    const a = await TestAcmeClient.create(one, ORIGIN, 'default-tls');
    await a.register();
    const order = await a.newOrder([{ type: 'dns', value: 'shared.acme.test' }]);
    const b = await TestAcmeClient.create(two, ORIGIN, 'default-tls');
    b.key = a.key;
    b.kid = a.kid;
    const seen = await b.post(String(order.headers['location']), null);
    expect([seen.status, seen.json()['status'], seen.json()['identifiers']]).toEqual([200, 'pending', [{ type: 'dns', value: 'shared.acme.test' }]]);
  });

  // Kid-signed requests read the catalogue counter in their nonce and account statement, not in a query of their own.
  it('ok/catalogue changes made through one instance apply at once to kid-signed requests on the other: policy, then the directory', async () => {
    const api = async (method: 'POST' | 'PATCH', url: string, payload: object) => {
      const res = await one.inject({ method, url, headers: bearer(env.adminToken), payload });
      if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    };
    const ca = await env.core.db.selectFrom('profiles').select('ca_id').where('slug', '=', 'default-tls').executeTakeFirstOrThrow();
    await api('POST', '/api/v1/policies', { name: 'fresh-only', rules: { sans: { allowedTypes: ['dns'], patterns: { dns: ['*.fresh.test'] } } } });
    await api('POST', '/api/v1/profiles', { slug: 'fresh-tls', ca: ca.ca_id, policy: 'fresh-only' });
    await api('PATCH', '/api/v1/applications/default', { profiles: ['default-tls', 'fresh-tls'] });
    const b = await TestAcmeClient.create(two, ORIGIN, 'fresh-tls');
    expect((await b.register()).status).toBe(201);
    const before = await b.newOrder([{ type: 'dns', value: 'a.fresh.test' }]);
    await api('PATCH', '/api/v1/policies/fresh-only', { rules: { sans: { allowedTypes: ['dns'], patterns: { dns: ['*.fresh.test'] }, deniedPatterns: { dns: ['b.fresh.test'] } } } });
    const denied = await b.newOrder([{ type: 'dns', value: 'b.fresh.test' }]);
    await api('PATCH', '/api/v1/applications/default', { profiles: ['default-tls'] });
    const detached = await b.post(String(before.headers['location']), null);
    expect([before.status, denied.status, denied.json()['detail'], detached.status, detached.json()['detail']]).toEqual([
      201, 400, 'policy fresh-only of profile fresh-tls: dns b.fresh.test is denied by the policy',
      404, 'no ACME directory "fresh-tls": no such profile, or it is attached to no application',
    ]);
  });
});
