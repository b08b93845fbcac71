import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/http/app.ts';
import { acmeDb } from '../src/enrollment/acme/acme-tables.ts';
import { TestAcmeClient } from './acme-test-client.ts';
import { ENGINES, bearer, createTestEnv, type TestEnv } from './helpers.ts';

const ORIGIN = 'https://certbridge.test';
const ERR = 'urn:ietf:params:acme:error:';

/**
 * newOrder refuses bad identifiers all at once (RFC 8555 section 6.7.1 subproblems) and applies
 * the profile's policy before any authorization exists; key changes, account updates and
 * deactivations of accounts and authorizations are in the audit log.
 */
describe.each(ENGINES)('ACME identifiers, policy and audit on %s', (engine) => {
  let env: TestEnv;
  let app: FastifyInstance;

  beforeAll(async () => {
    env = await createTestEnv(engine);
    app = await buildApp(env.core, { publicUrl: ORIGIN, acme: { http01Port: 1, tlsAlpn01Port: 1 } });
    const api = async (method: 'POST' | 'PATCH', url: string, payload: object) => {
      const res = await app.inject({ method, url, headers: bearer(env.adminToken), payload });
      if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    };
    const ca = await env.core.db.selectFrom('profiles').select('ca_id').where('slug', '=', 'default-tls').executeTakeFirstOrThrow();
    await api('POST', '/api/v1/policies', { name: 'corp-only', rules: { sans: { allowedTypes: ['dns'], patterns: { dns: ['*.corp.test'] }, deniedPatterns: { dns: ['blocked.corp.test'] } } } });
    await api('POST', '/api/v1/profiles', { slug: 'corp-tls', ca: ca.ca_id, policy: 'corp-only' });
    await api('PATCH', '/api/v1/applications/default', { profiles: ['default-tls', 'corp-tls'] });
  });
  afterAll(async () => {
    await app?.close();
    await env?.close();
  });

  const registered = async (slug = 'default-tls') => {
    const c = await TestAcmeClient.create(app, ORIGIN, slug);
    expect((await c.register()).status).toBe(201);
    return c;
  };
  const ordersOf = async (c: TestAcmeClient) =>
    (await acmeDb(env.core.db).selectFrom('acme_orders').select('id').where('account_id', '=', c.kid!.split('/').pop()!).execute()).length;
  const auditOf = (resourceId: string) =>
    env.core.db.selectFrom('audit_log').select(['action', 'outcome', 'details']).where('resource_id', '=', resourceId).orderBy('seq').execute();

  it('fail/several bad identifiers: one malformed problem, a subproblem per identifier, no order', async () => {
    const c = await registered();
    const res = await c.newOrder([
      { type: 'dns', value: 'good.acme.test' }, { type: 'email', value: 'a@b.test' }, { type: 'dns', value: 'bad..acme.test' }, { type: 'ip', value: '300.1.1.1' },
    ]);
    expect([res.status, res.json()]).toEqual([400, {
      type: `${ERR}malformed`, status: 400, detail: '3 identifiers were refused: a@b.test, bad..acme.test, 300.1.1.1',
      subproblems: [
        { type: `${ERR}unsupportedIdentifier`, detail: 'identifier type "email" is not supported (dns and ip are)', identifier: { type: 'email', value: 'a@b.test' } },
        { type: `${ERR}rejectedIdentifier`, detail: '"bad..acme.test" is not a valid DNS name', identifier: { type: 'dns', value: 'bad..acme.test' } },
        { type: `${ERR}rejectedIdentifier`, detail: '"300.1.1.1" is not an IP address', identifier: { type: 'ip', value: '300.1.1.1' } },
      ],
    }]);
    expect(await ordersOf(c)).toBe(0);
  });

  it('fail/bad identifiers of one kind keep that kind as the top-level type', async () => {
    const c = await registered();
    const res = await c.newOrder([{ type: 'dns', value: 'single' }, { type: 'dns', value: '-x.acme.test' }]);
    const body = res.json<{ type: string; subproblems: { identifier: { value: string } }[] }>();
    expect([res.status, body.type, body.subproblems.map((p) => p.identifier.value)]).toEqual([400, `${ERR}rejectedIdentifier`, ['single', '-x.acme.test']]);
  });

  it('fail/names the profile policy forbids are rejectedIdentifier at newOrder, each in a subproblem, no order', async () => {
    const c = await registered('corp-tls');
    const res = await c.newOrder([
      { type: 'dns', value: 'a.corp.test' }, { type: 'dns', value: 'blocked.corp.test' }, { type: 'dns', value: 'www.other.test' }, { type: 'ip', value: '10.0.0.1' },
    ]);
    const prefix = 'policy corp-only of profile corp-tls: ';
    expect([res.status, res.json()]).toEqual([400, {
      type: `${ERR}rejectedIdentifier`, status: 400, detail: '3 identifiers were refused: blocked.corp.test, www.other.test, 10.0.0.1',
      subproblems: [
        { type: `${ERR}rejectedIdentifier`, detail: `${prefix}dns blocked.corp.test is denied by the policy`, identifier: { type: 'dns', value: 'blocked.corp.test' } },
        { type: `${ERR}rejectedIdentifier`, detail: `${prefix}dns www.other.test does not match *.corp.test`, identifier: { type: 'dns', value: 'www.other.test' } },
        { type: `${ERR}rejectedIdentifier`, detail: `${prefix}ip names are not allowed`, identifier: { type: 'ip', value: '10.0.0.1' } },
      ],
    }]);
    expect(await ordersOf(c)).toBe(0);
  });

  it('ok/names the profile policy allows are ordered (201, pending)', async () => {
    const c = await registered('corp-tls');
    const res = await c.newOrder([{ type: 'dns', value: 'a.corp.test' }, { type: 'dns', value: 'b.corp.test' }]);
    expect([res.status, res.json()['status']]).toEqual([201, 'pending']);
  });

  it('ok/keyChange is audited with the old and the new key thumbprint', async () => {
    const c = await registered();
    const oldThumb = await c.thumbprint();
    const newKey = await TestAcmeClient.newKey('ES256');
    const url = `${c.base}/key-change`;
    const inner = JSON.parse(await c.sign(url, { account: c.kid, oldKey: c.key.jwk }, { nonce: null, useJwk: true }, newKey));
    expect((await c.post(url, inner)).status).toBe(200);
    c.key = newKey;
    const id = c.kid!.split('/').pop()!;
    expect((await auditOf(id)).map((r) => [r.action, r.outcome, r.details])).toEqual([
      ['acme.account.create', 'success', { profile: 'default-tls', application: 'default', eabKeyId: null, contact: [] }],
      ['acme.account.key-change', 'success', { oldThumbprint: oldThumb, newThumbprint: await c.thumbprint() }],
    ]);
  });

  it('fail/a refused keyChange (oldKey is not the account key) writes no audit row', async () => {
    const c = await registered();
    const stranger = await TestAcmeClient.newKey('ES256');
    const url = `${c.base}/key-change`;
    const inner = JSON.parse(await c.sign(url, { account: c.kid, oldKey: stranger.jwk }, { nonce: null, useJwk: true }, await TestAcmeClient.newKey('ES256')));
    const res = await c.post(url, inner);
    expect([res.status, res.json()['type']]).toEqual([400, `${ERR}malformed`]);
    expect((await auditOf(c.kid!.split('/').pop()!)).map((r) => r.action)).toEqual(['acme.account.create']);
  });

  it('ok/contact update and account deactivation are audited', async () => {
    const c = await registered();
    expect((await c.post(c.kid!, { contact: ['mailto:ops@example.test'] })).status).toBe(200);
    expect((await c.post(c.kid!, { status: 'deactivated' })).json()['status']).toBe('deactivated');
    expect((await auditOf(c.kid!.split('/').pop()!)).map((r) => [r.action, r.details])).toEqual([
      ['acme.account.create', { profile: 'default-tls', application: 'default', eabKeyId: null, contact: [] }],
      ['acme.account.update', { contact: ['mailto:ops@example.test'] }],
      ['acme.account.deactivate', { status: 'deactivated' }],
    ]);
  });

  it('ok/authorization deactivation is audited and invalidates its order; a second one is malformed', async () => {
    const c = await registered();
    const res = await c.newOrder([{ type: 'dns', value: 'deact.acme.test' }]);
    const authzUrl = res.json<{ authorizations: string[] }>().authorizations[0]!;
    const done = await c.post(authzUrl, { status: 'deactivated' });
    expect([done.status, done.json()['status']]).toEqual([200, 'deactivated']);
    const order = (await c.post(String(res.headers['location']), null)).json<{ status: string; error: { type: string; detail: string } }>();
    expect([order.status, order.error.type, order.error.detail]).toEqual(['invalid', `${ERR}unauthorized`, 'authorization for deact.acme.test was deactivated']);
    const authzId = authzUrl.split('/').pop()!;
    expect((await auditOf(authzId)).map((r) => [r.action, r.outcome, r.details])).toEqual([
      ['acme.authorization.deactivate', 'success', { accountId: c.kid!.split('/').pop(), orderId: String(res.headers['location']).split('/').pop(), identifier: 'dns:deact.acme.test' }],
    ]);
    const again = await c.post(authzUrl, { status: 'deactivated' });
    expect([again.status, again.json()['detail']]).toEqual([400, 'the authorization is deactivated; only pending and valid ones can be deactivated']);
  });
});
