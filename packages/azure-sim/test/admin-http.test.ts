/** The `/sim/` admin API on the authority origin, as the CLI serves it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzureSim, type AzureSim, type AppInfo, type TenantInfo } from '../src/index.ts';
import { https } from './helpers.ts';

const TOKEN = 'admin-token-for-tests-0123456789';
let sim: AzureSim;
let tenant: TenantInfo;
let app: AppInfo;

beforeAll(async () => {
  sim = await startAzureSim({ adminToken: TOKEN });
  tenant = sim.admin.addTenant();
  app = sim.admin.addApp(tenant.id, { displayName: 'certbridge' });
  sim.admin.addUser(tenant.id, { userPrincipalName: 'dave@example.test' });
});
afterAll(() => sim.close());

function admin(path: string, opts: { method?: string; body?: unknown; token?: string } = {}) {
  return https(`${sim.authorityHost}/sim/${path}`, sim.caPem, {
    method: opts.method, headers: { authorization: `Bearer ${opts.token ?? TOKEN}`, 'content-type': 'application/json' }, body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
}

describe('admin API /sim/', () => {
  it('ok/a fault injected over HTTP hits Graph once and shows in the call log', async () => {
    expect((await admin('faults', { method: 'POST', body: { service: 'graph', status: 503, retryAfterSeconds: 4 } })).status).toBe(204);
    const hit = await https(`${sim.graphUrl}/v1.0/applications`, sim.caPem);
    expect([hit.status, hit.headers['retry-after']]).toEqual([503, '4']);
    const calls = (await admin('calls?service=graph')).json() as unknown as Record<string, unknown>[];
    expect(calls.map((c) => [c.path, c.status, c.faulted])).toEqual([['/v1.0/applications', 503, true]]);
  });

  it('ok/time, propagation, consent and views', async () => {
    const before = sim.admin.now().getTime();
    const moved = (await admin('time', { method: 'POST', body: { advanceMs: 60_000 } })).json();
    expect(new Date(String(moved.now)).getTime() - before).toBeGreaterThanOrEqual(60_000);
    expect((await admin('propagation', { method: 'POST', body: { delayMs: 1000 } })).status).toBe(204);
    sim.admin.addPassword(app.appId, { propagate: true });
    const view = (await admin(`apps/${app.appId}`)).json();
    const [cred] = view.passwordCredentials as Record<string, string>[];
    expect(new Date(cred.usableAt).getTime() - new Date(cred.startDateTime).getTime()).toBe(1000);
    expect((await admin('users/dave%40example.test/consent', { method: 'POST', body: { tenantId: tenant.id, decision: 'deny' } })).status).toBe(204);
    await sim.admin.addVault('kv-admin', { tenantId: tenant.id });
    expect((await admin('vaults/kv-admin/certificates')).json()).toEqual([]);
  });

  it.each([
    ['fail/wrong admin token', 'calls', { token: 'nope' }, 401, 'UNAUTHORIZED'],
    ['fail/fault without status or latency', 'faults', { method: 'POST', body: { service: 'vault' } }, 400, 'VALIDATION'],
    ['fail/unknown status code', 'faults', { method: 'POST', body: { status: 418 } }, 400, 'VALIDATION'],
    ['fail/unknown app', 'apps/00000000-0000-0000-0000-000000000000', {}, 404, 'NOT_FOUND'],
    ['fail/unknown route', 'nothing', {}, 404, 'NOT_FOUND'],
  ])('%s', async (_name, path, opts, status, title) => {
    const res = await admin(path, opts);
    expect([res.status, res.headers['content-type'], res.json().title]).toEqual([status, 'application/problem+json', title]);
  });

  it('ok/without an admin token there is no /sim/ (the path is an unknown tenant to Entra)', async () => {
    const plain = await startAzureSim();
    try {
      const res = await https(`${plain.authorityHost}/sim/calls`, plain.caPem, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});
