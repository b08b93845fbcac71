import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestEnv, ENGINES, userWithToken, type TestEnv } from './helpers.ts';

/**
 * `GET /api/v1/orders?ca=…&requester=…`: a CA by id or name, a requester by user id or user name
 * (the ADCS filters are in adcs-issuance.test.ts). Orders come from real issuances by two admins
 * through two internal CAs.
 */
describe.each(ENGINES)('orders filtered by CA and requester on %s', (engine) => {
  let env: TestEnv;
  let ada: { id: string; token: string };
  let labCa: string;
  const issue = async (token: string, profile: string, cn: string) => {
    const res = await env.app.inject({ method: 'POST', url: '/api/v1/applications/default/certificates', headers: bearer(token), payload: { profile, subject: { commonName: cn }, sans: [`dns:${cn}`] } });
    if (res.statusCode !== 201) throw new Error(`issue ${cn}: ${res.statusCode} ${res.body}`);
  };
  const api = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) => env.app.inject({ method, url, headers: bearer(env.adminToken), ...(payload ? { payload } : {}) });

  beforeAll(async () => {
    env = await createTestEnv(engine);
    ada = await userWithToken(env, 'ada', 'admin');
    const ca = await api('POST', '/api/v1/cas', { name: 'Lab Root', subject: 'CN=Lab Root', kind: 'root', keyAlgorithm: 'EC-P256', validityDays: 365 });
    if (ca.statusCode !== 201) throw new Error(`CA: ${ca.statusCode} ${ca.body}`);
    labCa = ca.json().id;
    if ((await api('POST', '/api/v1/profiles', { slug: 'lab-tls', ca: labCa, policy: 'permissive' })).statusCode !== 201) throw new Error('profile');
    const app = (await api('GET', '/api/v1/applications/default')).json();
    if ((await api('PATCH', '/api/v1/applications/default', { profiles: [...app.profiles.map((p: { slug: string }) => p.slug), 'lab-tls'] })).statusCode !== 200) throw new Error('attach');
    await issue(env.adminToken, 'default-tls', 'admin-default.test');
    await issue(ada.token, 'default-tls', 'ada-default.test');
    await issue(ada.token, 'lab-tls', 'ada-lab.test');
  });
  afterAll(async () => {
    await env?.close();
  });

  it.each([
    ['ok/ca by name', () => 'ca=Lab%20Root', ['ada-lab.test']],
    ['ok/ca by id', () => `ca=${labCa}`, ['ada-lab.test']],
    ['ok/requester by user name', () => 'requester=ada', ['ada-lab.test', 'ada-default.test']],
    ['ok/requester by user id', () => `requester=${ada.id}`, ['ada-lab.test', 'ada-default.test']],
    ['ok/ca and requester combine', () => 'ca=Certbridge%20Intermediate%20CA&requester=admin', ['admin-default.test']],
    ['fail/an unknown CA name matches nothing', () => 'ca=No%20Such%20CA', []],
    ['fail/an unknown user name matches nothing', () => 'requester=nobody', []],
  ])('%s', async (_name, query, expected) => {
    const res = await api('GET', `/api/v1/orders?${query()}`);
    expect({ status: res.statusCode, cns: res.json().items.map((o: { commonName: string }) => o.commonName) }).toEqual({ status: 200, cns: expected });
  });

  it('fail/an over-long CA name is a 400 naming the parameter', async () => {
    const res = await api('GET', `/api/v1/orders?ca=${'x'.repeat(201)}`);
    expect({ status: res.statusCode, code: res.json().error.code, path: res.json().error.details.issues[0].path }).toEqual({ status: 400, code: 'VALIDATION_FAILED', path: 'ca' });
  });
});
