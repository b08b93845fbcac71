/** Microsoft Graph applications against the emulator, with tokens acquired by @azure/identity. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientSecretCredential } from '@azure/identity';
import { startAzureSim, type AzureSim, type AppInfo, type TenantInfo } from '../src/index.ts';
import { form, https } from './helpers.ts';

let sim: AzureSim;
let tenant: TenantInfo;
let rotator: AppInfo;
let target: AppInfo;
let graphToken: string;

const sdkOptions = () => ({ authorityHost: sim.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: sim.caPem } });

beforeAll(async () => {
  sim = await startAzureSim();
  tenant = sim.admin.addTenant({ domain: 'fabrikam.onmicrosoft.com' });
  rotator = sim.admin.addApp(tenant.id, { displayName: 'certbridge', graphRoles: ['Application.ReadWrite.All'] });
  target = sim.admin.addApp(tenant.id, { displayName: 'payroll' });
  const secret = sim.admin.addPassword(rotator.appId).secret;
  graphToken = (await new ClientSecretCredential(tenant.id, rotator.appId, secret, sdkOptions()).getToken('https://graph.microsoft.com/.default')).token;
});
afterAll(() => sim.close());

function graph(path: string, opts: { method?: string; body?: unknown; token?: string | null } = {}) {
  const token = opts.token === undefined ? graphToken : opts.token;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
  return https(`${sim.graphUrl}${path}`, sim.caPem, { method: opts.method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
}

async function secretWorks(appId: string, secret: string): Promise<number> {
  const f = form({ grant_type: 'client_credentials', client_id: appId, client_secret: secret, scope: 'https://graph.microsoft.com/.default' });
  return (await https(`${sim.authorityHost}/${tenant.id}/oauth2/v2.0/token`, sim.caPem, { method: 'POST', ...f })).status;
}

describe('Graph applications', () => {
  it('ok/$filter by appId and the appId alternate key find the application', async () => {
    const list = (await graph(`/v1.0/applications?$filter=${encodeURIComponent(`appId eq '${target.appId}'`)}`)).json();
    const value = list.value as Record<string, unknown>[];
    expect(value.map((a) => [a.id, a.appId, a.displayName])).toEqual([[target.objectId, target.appId, 'payroll']]);
    const byAlt = (await graph(`/v1.0/applications(appId='${target.appId}')`)).json();
    expect([byAlt.id, byAlt['@odata.context']]).toEqual([target.objectId, 'https://graph.microsoft.com/v1.0/$metadata#applications/$entity']);
  });

  it('ok/addPassword returns the secret once, it authenticates, removePassword revokes it', async () => {
    const res = await graph(`/v1.0/applications/${target.objectId}/addPassword`, { method: 'POST', body: { passwordCredential: { displayName: 'rotated', endDateTime: '2030-01-01T00:00:00Z' } } });
    const pc = res.json();
    expect(res.status).toBe(200);
    expect([pc.displayName, pc.endDateTime, pc.hint, pc.customKeyIdentifier]).toEqual(['rotated', '2030-01-01T00:00:00.000Z', (pc.secretText as string).slice(0, 3), null]);
    expect(pc.keyId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await secretWorks(target.appId, pc.secretText as string)).toBe(200);
    const shown = (await graph(`/v1.0/applications/${target.objectId}`)).json().passwordCredentials as Record<string, unknown>[];
    expect(shown.map((c) => [c.keyId, c.secretText, c.hint])).toEqual([[pc.keyId, null, pc.hint]]);
    const removed = await graph(`/v1.0/applications/${target.objectId}/removePassword`, { method: 'POST', body: { keyId: pc.keyId } });
    expect([removed.status, removed.text]).toEqual([204, '']);
    expect(await secretWorks(target.appId, pc.secretText as string)).toBe(401);
    expect(sim.admin.app(target.appId)?.passwordCredentials).toEqual([]);
  });

  it('ok/a Graph-created secret waits for the propagation delay', async () => {
    sim.admin.setPropagationDelay(5_000);
    const pc = (await graph(`/v1.0/applications(appId='${target.appId}')/addPassword`, { method: 'POST', body: {} })).json();
    expect(await secretWorks(target.appId, pc.secretText as string)).toBe(401);
    sim.admin.advanceTime(5_000);
    expect(await secretWorks(target.appId, pc.secretText as string)).toBe(200);
    sim.admin.setPropagationDelay(0);
  });

  it('ok/Application.ReadWrite.OwnedBy may add a password to an owned app; fail/not to others', async () => {
    const owner = sim.admin.addApp(tenant.id, { graphRoles: ['Application.ReadWrite.OwnedBy'] });
    const owned = sim.admin.addApp(tenant.id, { owners: [owner.appId] });
    const token = sim.admin.mintAccessToken({ tenantId: tenant.id, appId: owner.appId, resource: 'https://graph.microsoft.com', roles: ['Application.ReadWrite.OwnedBy'] });
    expect((await graph(`/v1.0/applications/${owned.objectId}/addPassword`, { method: 'POST', body: {}, token })).status).toBe(200);
    const denied = await graph(`/v1.0/applications/${target.objectId}/addPassword`, { method: 'POST', body: {}, token });
    const body = denied.json().error as Record<string, unknown>;
    expect([denied.status, body.code, body.message]).toEqual([403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.']);
    expect(Object.keys(body.innerError as object).sort()).toEqual(['client-request-id', 'date', 'request-id']);
    const visible = (await graph('/v1.0/applications', { token })).json().value as Record<string, unknown>[];
    expect(visible.map((a) => a.appId)).toEqual([owned.appId]);
  });

  it('ok/me answers the signed-in user for a delegated token; fail/an app token gets 400', async () => {
    const user = sim.admin.addUser(tenant.id, { userPrincipalName: 'ops@fabrikam.onmicrosoft.com', displayName: 'Ops' });
    const token = sim.admin.mintAccessToken({ tenantId: tenant.id, appId: rotator.appId, resource: 'https://graph.microsoft.com', scp: ['User.Read'], userObjectId: user.objectId });
    const me = (await graph('/v1.0/me', { token })).json();
    expect([me.id, me.userPrincipalName, me.displayName]).toEqual([user.objectId, 'ops@fabrikam.onmicrosoft.com', 'Ops']);
    const selected = (await graph('/v1.0/me?$select=id,userPrincipalName', { token })).json();
    expect(Object.keys(selected).sort()).toEqual(['@odata.context', 'id', 'userPrincipalName']);
    const app = await graph('/v1.0/me');
    expect([app.status, (app.json().error as Record<string, unknown>).code]).toEqual([400, 'BadRequest']);
  });

  it.each([
    ['fail/no token', null, 401, 'InvalidAuthenticationToken', 'Access token is empty.'],
    ['fail/expired token', 'EXPIRED', 401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.'],
    ['fail/Key Vault token', 'VAULT', 401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.'],
    ['fail/token signed by someone else', 'FORGED', 401, 'InvalidAuthenticationToken', 'Access token validation failure.'],
  ])('%s', async (_name, kind, status, code, message) => {
    const mint = (resource: string, lifetimeSeconds = 3600) => sim.admin.mintAccessToken({ tenantId: tenant.id, appId: rotator.appId, resource, roles: ['Application.ReadWrite.All'], lifetimeSeconds });
    const tokens: Record<string, string | null> = {
      EXPIRED: mint('https://graph.microsoft.com', -600),
      VAULT: mint('https://vault.azure.net'),
      FORGED: `${mint('https://graph.microsoft.com').split('.').slice(0, 2).join('.')}.${Buffer.alloc(256, 1).toString('base64url')}`,
    };
    const res = await graph('/v1.0/applications', { token: kind === null ? null : tokens[kind] });
    const err = res.json().error as Record<string, unknown>;
    expect([res.status, err.code, err.message]).toEqual([status, code, message]);
  });

  it.each([
    ['fail/unsupported $filter', () => graph(`/v1.0/applications?$filter=${encodeURIComponent("startswith(displayName,'p')")}`), 400, 'Request_UnsupportedQuery'],
    ['fail/unknown object id', () => graph('/v1.0/applications/00000000-0000-0000-0000-000000000000'), 404, 'Request_ResourceNotFound'],
    ['fail/endDateTime in the past', () => graph(`/v1.0/applications/${target.objectId}/addPassword`, { method: 'POST', body: { passwordCredential: { endDateTime: '2001-01-01T00:00:00Z' } } }), 400, 'Request_BadRequest'],
    ['fail/body is not JSON', () => https(`${sim.graphUrl}/v1.0/applications/${target.objectId}/addPassword`, sim.caPem, { method: 'POST', headers: { authorization: `Bearer ${graphToken}` }, body: '{nope' }), 400, 'BadRequest'],
    ['fail/removePassword of an unknown keyId', () => graph(`/v1.0/applications/${target.objectId}/removePassword`, { method: 'POST', body: { keyId: '00000000-0000-0000-0000-000000000001' } }), 400, 'Request_BadRequest'],
  ])('%s', async (_name, call, status, code) => {
    const res = await call();
    expect([res.status, (res.json().error as Record<string, unknown>).code]).toEqual([status, code]);
  });

  it('fail/an injected 503 answers serviceNotAvailable with Retry-After', async () => {
    sim.admin.injectFault({ service: 'graph', status: 503, retryAfterSeconds: 3 });
    const res = await graph('/v1.0/applications');
    expect([res.status, res.headers['retry-after'], (res.json().error as Record<string, unknown>).code]).toEqual([503, '3', 'serviceNotAvailable']);
    expect((await graph('/v1.0/applications')).status).toBe(200);
  });
});
