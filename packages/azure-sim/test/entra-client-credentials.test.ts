/** Entra client_credentials against the emulator, driven by @azure/identity and by raw token requests. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientCertificateCredential, ClientSecretCredential } from '@azure/identity';
import { startAzureSim, type AzureSim, type AppInfo, type TenantInfo } from '../src/index.ts';
import { claimsOf, form, https, selfSignedRsa } from './helpers.ts';

let sim: AzureSim;
let tenant: TenantInfo;
let app: AppInfo;
let secret: string;

beforeAll(async () => {
  sim = await startAzureSim();
  tenant = sim.admin.addTenant({ domain: 'contoso.onmicrosoft.com' });
  app = sim.admin.addApp(tenant.id, { displayName: 'rotator', graphRoles: ['Application.ReadWrite.All'] });
  secret = sim.admin.addPassword(app.appId).secret;
});
afterAll(() => sim.close());

const sdkOptions = () => ({ authorityHost: sim.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: sim.caPem } });

async function tokenRequest(tenantSegment: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const f = form(fields);
  return https(`${sim.authorityHost}/${tenantSegment}/oauth2/v2.0/token`, sim.caPem, { method: 'POST', headers: { ...f.headers, ...headers }, body: f.body });
}

describe('client_credentials', () => {
  it('ok/ClientSecretCredential gets a Graph token with the granted roles', async () => {
    const token = await new ClientSecretCredential(tenant.id, app.appId, secret, sdkOptions()).getToken('https://graph.microsoft.com/.default');
    const c = claimsOf(token.token);
    expect([c.aud, c.tid, c.appid, c.oid, c.roles]).toEqual(['https://graph.microsoft.com', tenant.id, app.appId, app.servicePrincipalId, ['Application.ReadWrite.All']]);
    // MSAL computes expiresOn from its own clock plus expires_in, so it lands within a second or two of exp.
    expect(Math.abs(token.expiresOnTimestamp - (c.exp as number) * 1000)).toBeLessThanOrEqual(2000);
  });

  it('ok/tenant named by its domain, token for Key Vault', async () => {
    const token = await new ClientSecretCredential('contoso.onmicrosoft.com', app.appId, secret, sdkOptions()).getToken('https://vault.azure.net/.default');
    expect(claimsOf(token.token).aud).toBe('https://vault.azure.net');
  });

  it('ok/ClientCertificateCredential signs an assertion the emulator checks against the registered certificate', async () => {
    const { certPem, keyPem } = selfSignedRsa();
    const certApp = sim.admin.addApp(tenant.id, { graphRoles: ['Application.ReadWrite.OwnedBy'] });
    sim.admin.addCertificate(certApp.appId, certPem);
    const token = await new ClientCertificateCredential(tenant.id, certApp.appId, { certificate: certPem + keyPem }, sdkOptions()).getToken('https://graph.microsoft.com/.default');
    expect(claimsOf(token.token).roles).toEqual(['Application.ReadWrite.OwnedBy']);
  });

  it('fail/certificate not registered on the app is AADSTS700027', async () => {
    const registered = selfSignedRsa();
    const other = selfSignedRsa();
    const certApp = sim.admin.addApp(tenant.id);
    sim.admin.addCertificate(certApp.appId, registered.certPem);
    const cred = new ClientCertificateCredential(tenant.id, certApp.appId, { certificate: other.certPem + other.keyPem }, sdkOptions());
    await expect(cred.getToken('https://graph.microsoft.com/.default')).rejects.toThrow(/AADSTS700027: The certificate with identifier used to sign the client assertion is not registered/);
  });

  it('fail/wrong secret answers 401 invalid_client AADSTS7000215 in Entra\'s error shape', async () => {
    const res = await tokenRequest(tenant.id, { grant_type: 'client_credentials', client_id: app.appId, client_secret: 'not-the-secret', scope: 'https://graph.microsoft.com/.default' }, { 'client-request-id': 'c0ffee00-0000-4000-8000-000000000001' });
    const body = res.json();
    expect(res.status).toBe(401);
    expect([body.error, body.error_codes, body.correlation_id]).toEqual(['invalid_client', [7000215], 'c0ffee00-0000-4000-8000-000000000001']);
    expect(body.error_description).toMatch(/^AADSTS7000215: Invalid client secret provided\. .* Trace ID: [0-9a-f-]{36} Correlation ID: c0ffee00-0000-4000-8000-000000000001 Timestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    expect(Object.keys(body).sort()).toEqual(['correlation_id', 'error', 'error_codes', 'error_description', 'error_uri', 'timestamp', 'trace_id']);
  });

  it('fail/wrong secret through the SDK names AADSTS7000215', async () => {
    const cred = new ClientSecretCredential(tenant.id, app.appId, 'wrong', sdkOptions());
    await expect(cred.getToken('https://graph.microsoft.com/.default')).rejects.toThrow(/AADSTS7000215/);
  });

  it.each([
    ['fail/unknown tenant', 'nowhere.onmicrosoft.com', {}, 400, 'invalid_request', 90002],
    ['fail/unknown app', 'TENANT', { client_id: '11111111-2222-3333-4444-555555555555' }, 400, 'unauthorized_client', 700016],
    ['fail/scope without /.default', 'TENANT', { scope: 'https://graph.microsoft.com/User.Read' }, 400, 'invalid_scope', 1002012],
    ['fail/unknown resource', 'TENANT', { scope: 'https://storage.example/.default' }, 400, 'invalid_resource', 500011],
    ['fail/no credential', 'TENANT', { client_secret: '' }, 401, 'invalid_client', 7000218],
    ['fail/unsupported grant', 'TENANT', { grant_type: 'password' }, 400, 'unsupported_grant_type', 70003],
    ['fail/client credentials at /organizations', 'organizations', {}, 400, 'invalid_request', 50059],
  ])('%s', async (_name, segment, override, status, error, code) => {
    const fields = { grant_type: 'client_credentials', client_id: app.appId, client_secret: secret, scope: 'https://graph.microsoft.com/.default', ...override };
    const res = await tokenRequest(segment === 'TENANT' ? tenant.id : segment, fields);
    expect([res.status, res.json().error, res.json().error_codes]).toEqual([status, error, [code]]);
  });

  it('fail/a secret added with propagation works only after the delay', async () => {
    sim.admin.setPropagationDelay(30_000);
    const fresh = sim.admin.addPassword(app.appId, { propagate: true });
    const fields = { grant_type: 'client_credentials', client_id: app.appId, client_secret: fresh.secret, scope: 'https://graph.microsoft.com/.default' };
    expect((await tokenRequest(tenant.id, fields)).json().error_codes).toEqual([7000215]);
    sim.admin.advanceTime(30_000);
    expect((await tokenRequest(tenant.id, fields)).status).toBe(200);
    sim.admin.setPropagationDelay(0);
  });

  it('fail/expired secret is AADSTS7000222', async () => {
    const old = sim.admin.addPassword(app.appId, { endDateTime: new Date(Date.now() - 1000) });
    const res = await tokenRequest(tenant.id, { grant_type: 'client_credentials', client_id: app.appId, client_secret: old.secret, scope: 'https://graph.microsoft.com/.default' });
    expect([res.status, res.json().error_codes]).toEqual([401, [7000222]]);
  });

  it('fail/injected 429 carries Retry-After and the throttling error', async () => {
    sim.admin.injectFault({ service: 'entra', status: 429, retryAfterSeconds: 7, pathContains: '/oauth2/v2.0/token' });
    const res = await tokenRequest(tenant.id, { grant_type: 'client_credentials', client_id: app.appId, client_secret: secret, scope: 'https://graph.microsoft.com/.default' });
    expect([res.status, res.headers['retry-after'], res.json().error]).toEqual([429, '7', 'temporarily_unavailable']);
    expect(sim.admin.calls('entra').at(-1)).toMatchObject({ status: 429, faulted: true, method: 'POST' });
  });

  it('ok/client_secret_basic (HTTP Basic) authenticates; fail/a secret put in the query string is redacted from the call log', async () => {
    const basic = Buffer.from(`${encodeURIComponent(app.appId)}:${encodeURIComponent(secret)}`).toString('base64');
    const res = await tokenRequest(tenant.id, { grant_type: 'client_credentials', scope: 'https://graph.microsoft.com/.default' }, { authorization: `Basic ${basic}` });
    expect(res.status).toBe(200);
    sim.admin.clearCalls();
    const f = form({ grant_type: 'client_credentials', client_id: app.appId, scope: 'https://graph.microsoft.com/.default' });
    const leaked = await https(`${sim.authorityHost}/${tenant.id}/oauth2/v2.0/token?client_secret=${encodeURIComponent(secret)}`, sim.caPem, { method: 'POST', ...f });
    expect([leaked.status, leaked.json().error_codes]).toEqual([401, [7000218]]);
    expect(sim.admin.calls('entra').map((c) => c.query)).toEqual([{ client_secret: '[redacted]' }]);
  });

  it('ok/@azure/identity retries a throttled token request after Retry-After', async () => {
    const cred = new ClientSecretCredential(tenant.id, app.appId, secret, sdkOptions());
    sim.admin.clearCalls();
    sim.admin.injectFault({ service: 'entra', status: 429, retryAfterSeconds: 1, pathContains: '/oauth2/v2.0/token' });
    const token = await cred.getToken('https://vault.azure.net/.default');
    expect(claimsOf(token.token).aud).toBe('https://vault.azure.net');
    expect(sim.admin.calls('entra').filter((c) => c.path.endsWith('/token')).map((c) => c.status)).toEqual([429, 200]);
  });

  it('ok/discovery documents name the emulator endpoints; fail/unknown tenant is AADSTS90002', async () => {
    const doc = (await https(`${sim.authorityHost}/${tenant.id}/v2.0/.well-known/openid-configuration`, sim.caPem)).json();
    expect([doc.token_endpoint, doc.issuer]).toEqual([`${sim.authorityHost}/${tenant.id}/oauth2/v2.0/token`, `${sim.authorityHost}/${tenant.id}/v2.0`]);
    const bad = await https(`${sim.authorityHost}/nowhere/v2.0/.well-known/openid-configuration`, sim.caPem);
    expect([bad.status, bad.json().error_codes]).toEqual([400, [90002]]);
  });
});
