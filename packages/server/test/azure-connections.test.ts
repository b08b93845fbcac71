/**
 * Azure connections against the emulator over HTTPS: client secret, certificate and Key Vault
 * connections, "Test connection" with each step, 403 answers naming the missing permission, and
 * malformed input in the API's error format. Secrets never come back from the API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, cloudOf, rsaCertificate, selfManagingApp, startAzureWorld, type AzureWorld } from './azure-fixtures.ts';
import { ENGINES, createTestEnv, type TestEnv } from './helpers.ts';

describe.each(ENGINES)('Azure connections on %s', (engine) => {
  let env: TestEnv;
  let world: AzureWorld;
  beforeAll(async () => {
    world = await startAzureWorld();
    env = await createTestEnv(engine, { azure: { publicUrl: 'https://certbridge.test', oauthApps: world.oauthApps } });
  });
  afterAll(async () => {
    await env?.close();
    await world?.close();
  });

  const secretConnection = (name: string, app: { appId: string; secret: string }, extra: object = {}) =>
    api(env, 'POST', '/api/v1/connections', { name, type: 'azure-client-secrets', method: 'client-secret', tenantId: world.tenantId, clientId: app.appId, clientSecret: app.secret, ...cloudOf(world), ...extra });

  it('ok/client-secret connection is stored sealed and its test reads the application', async () => {
    const app = selfManagingApp(world);
    const res = await secretConnection('graph-secret', app);
    expect({ status: res.statusCode, type: res.json().type, method: res.json().method, secretSet: res.json().secretSet, leaked: res.body.includes(app.secret) })
      .toEqual({ status: 201, type: 'azure-client-secrets', method: 'client-secret', secretSet: true, leaked: false });
    const row = await env.core.azure.repo.find('graph-secret');
    expect({ sealed: row!.secret_sealed!.startsWith('v1.'), plain: row!.secret_sealed!.includes(app.secret) }).toEqual({ sealed: true, plain: false });
    const report = (await api(env, 'POST', `/api/v1/connections/${res.json().id}/test`)).json();
    expect({ ok: report.ok, steps: report.steps.map((s: { step: string; ok: boolean }) => `${s.step}:${s.ok}`), graph: report.steps[1].detail })
      .toEqual({ ok: true, steps: ['token:true', 'graph:true'], graph: expect.stringContaining(`GET application ${app.appId}`) });
  });

  it('ok/certificate connection signs a client assertion with the sealed key', async () => {
    const app = world.sim.admin.addApp(world.tenantId, { displayName: 'cert-app', graphRoles: ['Application.ReadWrite.OwnedBy'] });
    world.sim.admin.addOwner(app.appId, app.appId);
    const { certPem, keyPem } = rsaCertificate('certbridge-assertion');
    world.sim.admin.addCertificate(app.appId, certPem);
    const res = await api(env, 'POST', '/api/v1/connections', { name: 'graph-cert', type: 'azure-client-secrets', method: 'certificate', tenantId: world.tenantId, clientId: app.appId, certificatePem: certPem, privateKeyPem: keyPem, ...cloudOf(world) });
    expect({ status: res.statusCode, subject: res.json().certificate?.subject, leaked: res.body.includes('PRIVATE KEY') }).toEqual({ status: 201, subject: 'CN=certbridge-assertion', leaked: false });
    const report = (await api(env, 'POST', '/api/v1/connections/graph-cert/test')).json();
    expect(report.steps.map((s: { step: string; ok: boolean }) => `${s.step}:${s.ok}`)).toEqual(['token:true', 'graph:true']);
  });

  it('ok/key-vault connection lists one certificate of its vault; credentialFor serves the SDK', async () => {
    const app = selfManagingApp(world, []);
    const vaultUrl = await world.sim.admin.addVault('kv-test', { tenantId: world.tenantId });
    world.sim.admin.grantVaultAccess('kv-test', app.appId);
    const res = await api(env, 'POST', '/api/v1/connections', { name: 'vault', type: 'azure-key-vault', method: 'client-secret', tenantId: world.tenantId, clientId: app.appId, clientSecret: app.secret, vaultName: vaultUrl, ...cloudOf(world) });
    expect(res.statusCode).toBe(201);
    const report = (await api(env, 'POST', '/api/v1/connections/vault/test')).json();
    expect({ ok: report.ok, vault: report.steps[1] }).toEqual({ ok: true, vault: { step: 'key-vault', ok: true, detail: `listed certificates of ${vaultUrl} (maxresults=1): 0 returned` } });
    const cc = await env.core.azure.credentials.credentialFor('vault', 'azure-key-vault');
    expect({ url: cc.vaultUrlFor(), noResourceCheck: cc.clientOptions.disableChallengeResourceVerification }).toEqual({ url: vaultUrl, noResourceCheck: true });
  });

  it('fail/graph 403 names the missing application permission', async () => {
    const app = selfManagingApp(world, []);
    await secretConnection('no-roles', app);
    const report = (await api(env, 'POST', '/api/v1/connections/no-roles/test')).json();
    expect({ ok: report.ok, token: report.steps[0].ok, status: report.steps[1].status, missing: report.steps[1].missingPermission })
      .toEqual({ ok: false, token: true, status: 403, missing: expect.stringContaining('Application.ReadWrite.OwnedBy') });
  });

  it('fail/key vault 403 names the certificate permissions', async () => {
    const app = selfManagingApp(world, []);
    const vaultUrl = await world.sim.admin.addVault('kv-denied', { tenantId: world.tenantId });
    await api(env, 'POST', '/api/v1/connections', { name: 'vault-denied', type: 'azure-key-vault', method: 'client-secret', tenantId: world.tenantId, clientId: app.appId, clientSecret: app.secret, vaultName: vaultUrl, ...cloudOf(world) });
    const report = (await api(env, 'POST', '/api/v1/connections/vault-denied/test')).json();
    expect({ ok: report.ok, status: report.steps[1].status, missing: report.steps[1].missingPermission })
      .toEqual({ ok: false, status: 403, missing: expect.stringContaining("'Key Vault Certificates Officer'") });
  });

  it('fail/key-vault connection without a vault says so at the key-vault step', async () => {
    const app = selfManagingApp(world, []);
    await api(env, 'POST', '/api/v1/connections', { name: 'vault-unnamed', type: 'azure-key-vault', method: 'client-secret', tenantId: world.tenantId, clientId: app.appId, clientSecret: app.secret, ...cloudOf(world) });
    const report = (await api(env, 'POST', '/api/v1/connections/vault-unnamed/test')).json();
    expect({ ok: report.ok, steps: report.steps.map((s: { step: string; ok: boolean }) => `${s.step}:${s.ok}`), detail: report.steps[1].detail })
      .toEqual({ ok: false, steps: ['token:true', 'key-vault:false'], detail: 'connection vault-unnamed has no vaultName; name the vault' });
  });

  it('fail/wrong secret stops at the token step with the AADSTS error', async () => {
    const app = selfManagingApp(world);
    await secretConnection('wrong-secret', { appId: app.appId, secret: 'not-the-secret' });
    const report = (await api(env, 'POST', '/api/v1/connections/wrong-secret/test')).json();
    expect({ ok: report.ok, steps: report.steps.length, step: report.steps[0].step, aadsts: report.steps[0].detail.includes('AADSTS7000215') }).toEqual({ ok: false, steps: 1, step: 'token', aadsts: true });
  });

  it.each([
    ['fail/custom authority without graphUrl', { authorityHost: 'https://login.example.test' }, 'graphUrl'],
    ['fail/http authority', { authorityHost: 'http://login.example.test', graphUrl: 'https://graph.example.test' }, 'authorityHost'],
    ['fail/client-secret method without secret', { clientSecret: undefined }, 'clientSecret'],
    ['fail/unknown type', { type: 'azure-blob' }, 'type'],
    ['fail/client id not a GUID', { clientId: 'app' }, 'clientId'],
  ])('%s answers VALIDATION_FAILED naming %s', async (_name, patch, field) => {
    const body = { name: `bad-${field}`, type: 'azure-client-secrets', method: 'client-secret', tenantId: world.tenantId, clientId: '11111111-2222-3333-4444-555555555555', clientSecret: 's', ...patch };
    const res = await api(env, 'POST', '/api/v1/connections', body);
    const err = res.json().error;
    expect({ status: res.statusCode, code: err.code, field: err.details.field ?? err.details.issues?.[0]?.path }).toEqual({ status: 400, code: 'VALIDATION_FAILED', field });
  });

  it('fail/certificate key that does not belong to the certificate', async () => {
    const a = rsaCertificate('one');
    const b = rsaCertificate('two');
    const res = await api(env, 'POST', '/api/v1/connections', { name: 'mismatch', type: 'azure-key-vault', method: 'certificate', tenantId: world.tenantId, clientId: '11111111-2222-3333-4444-555555555555', certificatePem: a.certPem, privateKeyPem: b.keyPem, ...cloudOf(world) });
    expect({ status: res.statusCode, message: res.json().error.message }).toEqual({ status: 400, message: 'privateKeyPem does not belong to certificatePem' });
  });

  it('fail/a PATCH with fields of another kind is refused by the connection\'s own schema', async () => {
    const res = await api(env, 'PATCH', '/api/v1/connections/graph-secret', { url: 'https://ca.corp.example/certsrv/' });
    expect({ status: res.statusCode, code: res.json().error.code, issue: res.json().error.details.issues[0].message }).toEqual({ status: 400, code: 'VALIDATION_FAILED', issue: "Unrecognized key(s) in object: 'url'" });
  });

  it('ok/PATCH replaces the secret (sealed anew) and the default vault', async () => {
    const before = (await env.core.azure.repo.find('graph-secret'))!;
    const res = await api(env, 'PATCH', '/api/v1/connections/graph-secret', { clientSecret: 'a new secret', vaultName: 'my-vault' });
    const after = (await env.core.azure.repo.find('graph-secret'))!;
    expect({ status: res.statusCode, vault: res.json().vaultName, resealed: after.secret_sealed !== before.secret_sealed, leaked: res.body.includes('a new secret') }).toEqual({ status: 200, vault: 'my-vault', resealed: true, leaked: false });
  });

  it('fail/names are unique across ADCS and Azure connections', async () => {
    const app = selfManagingApp(world);
    const res = await secretConnection('graph-secret', app);
    expect({ status: res.statusCode, code: res.json().error.code }).toEqual({ status: 409, code: 'CONFLICT' });
  });

  it('ok/list shows every kind; delete removes an Azure connection', async () => {
    const names = (await api(env, 'GET', '/api/v1/connections')).json().items.map((c: { name: string }) => c.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['graph-secret', 'graph-cert', 'vault']));
    const vaults = (await api(env, 'GET', '/api/v1/connections?type=azure-key-vault')).json().items.map((c: { name: string }) => c.name);
    expect(vaults).toEqual(['vault', 'vault-denied', 'vault-unnamed']);
    expect((await api(env, 'GET', '/api/v1/connections?type=ldap')).statusCode).toBe(400);
    expect((await api(env, 'DELETE', '/api/v1/connections/wrong-secret')).statusCode).toBe(204);
    expect((await api(env, 'GET', '/api/v1/connections/wrong-secret')).statusCode).toBe(404);
  });
});
