/** Malformed requests get each service's own error format, never a crash; delegated Key Vault access follows the user. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzureSim, type AzureSim, type AppInfo, type TenantInfo } from '../src/index.ts';
import { https } from './helpers.ts';

let sim: AzureSim;
let tenant: TenantInfo;
let app: AppInfo;
let vault: string;

beforeAll(async () => {
  sim = await startAzureSim();
  tenant = sim.admin.addTenant();
  app = sim.admin.addApp(tenant.id, { graphRoles: ['Application.ReadWrite.All'] });
  vault = await sim.admin.addVault('kv-odd', { tenantId: tenant.id });
});
afterAll(() => sim.close());

const vaultToken = (extra: { scp?: string[]; userObjectId?: string } = {}) => sim.admin.mintAccessToken({ tenantId: tenant.id, appId: app.appId, resource: 'https://vault.azure.net', ...extra });

describe('malformed requests', () => {
  it('fail/broken %-encoding in an Entra path is 400 invalid_request', async () => {
    const res = await https(`${sim.authorityHost}/%E0%A4%A/oauth2/v2.0/token`, sim.caPem, { method: 'POST' });
    expect([res.status, res.json().error, res.json().error_codes]).toEqual([400, 'invalid_request', [90100]]);
  });

  it('fail/a token request with a JSON body is AADSTS900144 (grant_type missing)', async () => {
    const res = await https(`${sim.authorityHost}/${tenant.id}/oauth2/v2.0/token`, sim.caPem, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant_type":"client_credentials"}' });
    expect([res.status, res.json().error_codes]).toEqual([400, [900144]]);
  });

  it('fail/GET on the token endpoint is AADSTS900561', async () => {
    const res = await https(`${sim.authorityHost}/${tenant.id}/oauth2/v2.0/token`, sim.caPem);
    expect([res.status, res.json().error_codes]).toEqual([400, [900561]]);
  });

  it('fail/broken %-encoding in a Graph path is 400 BadRequest', async () => {
    const token = sim.admin.mintAccessToken({ tenantId: tenant.id, appId: app.appId, resource: 'https://graph.microsoft.com', roles: ['Application.ReadWrite.All'] });
    const res = await https(`${sim.graphUrl}/v1.0/applications/%ZZ`, sim.caPem, { headers: { authorization: `Bearer ${token}` } });
    expect([res.status, (res.json().error as Record<string, unknown>).code]).toEqual([400, 'BadRequest']);
  });

  it('fail/a Key Vault body that is not JSON is 400 BadParameter', async () => {
    sim.admin.grantVaultAccess('kv-odd', app.appId);
    const res = await https(`${vault}/certificates/x/import?api-version=7.5`, sim.caPem, { method: 'POST', headers: { authorization: `Bearer ${vaultToken()}`, 'content-type': 'application/json' }, body: '{"value":' });
    expect([res.status, (res.json().error as Record<string, unknown>).code, (res.json().error as Record<string, unknown>).message]).toEqual([400, 'BadParameter', 'The request body is not valid JSON.']);
  });

  it('fail/a body over 4 MiB is 413 in Key Vault\'s format', async () => {
    sim.admin.grantVaultAccess('kv-odd', app.appId);
    const res = await https(`${vault}/certificates/big/import?api-version=7.5`, sim.caPem, { method: 'POST', headers: { authorization: `Bearer ${vaultToken()}`, 'content-type': 'application/json' }, body: JSON.stringify({ value: 'A'.repeat(5 * 1024 * 1024) }) });
    expect([res.status, (res.json().error as Record<string, unknown>).message]).toEqual([413, 'The request body is too large.']);
  });

  it('fail/broken %-encoding in a Key Vault name is 400 BadParameter', async () => {
    const res = await https(`${vault}/certificates/%E0?api-version=7.5`, sim.caPem, { headers: { authorization: `Bearer ${vaultToken()}` } });
    expect([res.status, (res.json().error as Record<string, unknown>).code]).toEqual([400, 'BadParameter']);
  });

  it('ok/a delegated token is allowed by the user\'s access policy; fail/not by the app\'s', async () => {
    const user = sim.admin.addUser(tenant.id, { userPrincipalName: 'kvadmin@example.test' });
    const delegated = vaultToken({ scp: ['user_impersonation'], userObjectId: user.objectId });
    sim.admin.grantVaultAccess('kv-odd', app.appId);
    const denied = await https(`${vault}/certificates?api-version=7.5`, sim.caPem, { headers: { authorization: `Bearer ${delegated}` } });
    expect(denied.status).toBe(403);
    sim.admin.grantVaultAccess('kv-odd', user.objectId, ['list']);
    const allowed = await https(`${vault}/certificates?api-version=7.5`, sim.caPem, { headers: { authorization: `Bearer ${delegated}` } });
    expect([allowed.status, allowed.json().value]).toEqual([200, []]);
  });
});
