import { ClientSecretCredential } from '@azure/identity';
import { CertificateClient } from '@azure/keyvault-certificates';
import { startAzureSim, type AzureSim } from '@certbridge/azure-sim';
import { buildCsr, generateKeyPair, parseDn, pemEncode } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_KEY_REASON, SyncRunError, TAG_ID, TAG_SERIAL } from '../src/syncs/sync-reconciler.ts';
import { bearer, ENGINES } from './helpers.ts';
import { createSyncEnv, type SyncEnv } from './sync-fixtures.ts';

/**
 * Key Vault sync end to end: Certbridge's real Azure path (connection credential, official
 * @azure/keyvault-certificates client) against the Azure emulator over HTTPS.
 */
describe.each(ENGINES)('Key Vault sync against the Azure emulator (%s)', (engine) => {
  let sim: AzureSim;
  let s: SyncEnv;
  let syncId: string;
  let outsider: ClientSecretCredential;
  const api = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
    s.env.app.inject({ method, url, headers: bearer(s.env.adminToken), ...(payload ? { payload } : {}) });
  const item = async (certificateId: string) =>
    ((await api('GET', `/api/v1/syncs/${syncId}/certificates`)).json().items as { certificateId: string; state: string; reason: string | null; vaultName: string; vaultVersion: string; lastError: string | null }[])
      .find((i) => i.certificateId === certificateId);
  const inVault = (name: string) => sim.admin.vault('kv-certbridge').certificate(name);

  beforeAll(async () => {
    sim = await startAzureSim();
    const tenant = sim.admin.addTenant({ domain: 'contoso.onmicrosoft.com' });
    const app = sim.admin.addApp(tenant.id, { displayName: 'certbridge-sync' });
    const { secret } = sim.admin.addPassword(app.appId);
    await sim.admin.addVault('kv-certbridge', { tenantId: tenant.id });
    sim.admin.grantVaultAccess('kv-certbridge', app.appId);
    const admin = sim.admin.addApp(tenant.id, { displayName: 'vault-admin' });
    sim.admin.grantVaultAccess('kv-certbridge', admin.appId);
    outsider = new ClientSecretCredential(tenant.id, admin.appId, sim.admin.addPassword(admin.appId).secret, { authorityHost: sim.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: sim.caPem } });
    s = await createSyncEnv(engine);
    await s.core.azure.connections.create(s.admin, {
      name: 'kv-emulator', type: 'azure-key-vault', method: 'client-secret', tenantId: tenant.id, clientId: app.appId, clientSecret: secret,
      authorityHost: sim.authorityHost, graphUrl: sim.graphUrl, caPem: sim.caPem,
    });
  }, 60_000);
  afterAll(async () => {
    await s?.env.close();
    await sim?.close();
  });

  let keyed: string;

  it('ok/create sync: full sync imports the PFX with its chain, tags, issuer Unknown and no AutoRenew; a CSR certificate is skipped', async () => {
    const cert = await s.issue('web.azure.test');
    keyed = cert.id;
    const { privateKey, publicKey } = generateKeyPair('EC-P256');
    const csrOnly = await s.issue('csr.azure.test', pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn('CN=csr.azure.test'), sans: [{ type: 'dns', value: 'csr.azure.test' }], privateKey, publicKey })));
    const res = await api('POST', '/api/v1/syncs', { name: 'emulator', connection: 'kv-emulator', vaultUrl: sim.vaultUrl('kv-certbridge'), profiles: ['default-tls'] });
    expect(res.statusCode).toBe(201);
    syncId = res.json().id;
    expect(await s.drain()).toEqual([]);
    const synced = (await item(keyed))!;
    expect(synced).toMatchObject({ state: 'synced', lastError: null });
    const view = inVault(synced.vaultName)!;
    expect([view.policy.issuer.name, view.autoRenew, view.deleted]).toEqual(['Unknown', false, false]);
    expect(view.policy.lifetime_actions).toEqual([{ trigger: { lifetime_percentage: 80 }, action: { action_type: 'EmailContacts' } }]);
    expect(view.versions).toHaveLength(1);
    expect(view.versions[0]).toMatchObject({ version: synced.vaultVersion, enabled: true, tags: { [TAG_SERIAL]: cert.serial_hex, [TAG_ID]: cert.id }, chainLength: cert.chain.length });
    expect(view.versions[0]!.serialNumber.toLowerCase()).toBe(cert.serial_hex.toLowerCase());
    expect(await item(csrOnly.id)).toMatchObject({ state: 'skipped', reason: NO_KEY_REASON });
  });

  it('ok/renew: a new version of the same Key Vault certificate', async () => {
    const name = (await item(keyed))!.vaultName;
    const renewed = (await api('POST', `/api/v1/certificates/${keyed}/renew`, {})).json().certificate as { id: string; serial: string };
    expect(await s.drain()).toEqual([]);
    expect(await item(renewed.id)).toMatchObject({ state: 'synced', vaultName: name });
    expect(inVault(name)!.versions.map((v) => v.tags[TAG_ID])).toEqual([keyed, renewed.id]);
    keyed = renewed.id;
  });

  it('ok/revoke: the version is disabled', async () => {
    const { vaultName, vaultVersion } = (await item(keyed))!;
    expect((await api('POST', `/api/v1/certificates/${keyed}/revoke`, { reason: 'keyCompromise' })).statusCode).toBe(200);
    expect(await s.drain()).toEqual([]);
    expect(await item(keyed)).toMatchObject({ state: 'disabled' });
    expect(inVault(vaultName)!.versions.find((v) => v.version === vaultVersion)!.enabled).toBe(false);
  });

  it('ok/revoke with onRevocation delete: the Key Vault certificate is (soft) deleted', async () => {
    expect((await api('PATCH', `/api/v1/syncs/${syncId}`, { onRevocation: 'delete' })).statusCode).toBe(200);
    const cert = (await s.issue('gone.azure.test')).id;
    expect(await s.drain()).toEqual([]);
    const { vaultName } = (await item(cert))!;
    await api('POST', `/api/v1/certificates/${cert}/revoke`, { reason: 'cessationOfOperation' });
    expect(await s.drain()).toEqual([]);
    expect(await item(cert)).toMatchObject({ state: 'deleted' });
    expect(inVault(vaultName)!.deleted).toBe(true);
  });

  it('ok/reconcile repairs a certificate deleted and purged in the vault by someone else', async () => {
    const cert = (await s.issue('drift.azure.test')).id;
    expect(await s.drain()).toEqual([]);
    const { vaultName } = (await item(cert))!;
    // Another administrator of the vault, through the SDK with their own client.
    const other = new CertificateClient(sim.vaultUrl('kv-certbridge'), outsider, { disableChallengeResourceVerification: true, tlsOptions: { ca: sim.caPem } });
    await (await other.beginDeleteCertificate(vaultName)).pollUntilDone();
    await other.purgeDeletedCertificate(vaultName);
    expect(inVault(vaultName)).toBeUndefined();
    expect((await api('POST', `/api/v1/syncs/${syncId}/run`)).statusCode).toBe(202);
    expect(await s.drain()).toEqual([]);
    const repaired = (await item(cert))!;
    expect(inVault(vaultName)!.versions.map((v) => [v.version, v.tags[TAG_ID]])).toEqual([[repaired.vaultVersion, cert]]);
  });

  it('ok/throttling: 429 and 503 with Retry-After are retried by the client and end synced', async () => {
    sim.admin.clearCalls();
    sim.admin.injectFault({ service: 'vault', status: 503, count: 1, retryAfterSeconds: 1, pathContains: '/import' });
    sim.admin.injectFault({ service: 'vault', status: 429, count: 1, retryAfterSeconds: 1, pathContains: '/import' });
    const cert = (await s.issue('busy.azure.test')).id;
    expect(await s.drain()).toEqual([]);
    expect(await item(cert)).toMatchObject({ state: 'synced', lastError: null });
    expect(sim.admin.calls('vault').filter((c) => c.path.endsWith('/import')).map((c) => [c.status, c.faulted])).toEqual([[503, true], [429, true], [200, false]]);
  });

  it('ok/throttling beyond the client retries: the error is recorded and the retried job ends synced', async () => {
    sim.admin.injectFault({ service: 'vault', status: 429, count: 5, retryAfterSeconds: 1, pathContains: '/import' });
    const cert = (await s.issue('jammed.azure.test')).id;
    const errors = await s.drain();
    expect(errors.map((e) => [e instanceof SyncRunError, (e as SyncRunError).retryable])).toEqual([[true, true]]);
    expect(await item(cert)).toMatchObject({ state: 'failed', lastError: expect.stringContaining('(429)') });
    await s.core.syncs.handle({ kind: 'certificate', certificateId: cert });
    expect(await item(cert)).toMatchObject({ state: 'synced', lastError: null });
  }, 30_000);

  it('fail/a sync whose connection was removed says so and is not retried by the queue', async () => {
    await s.core.azure.connections.remove(s.admin, 'kv-emulator');
    expect((await api('POST', `/api/v1/syncs/${syncId}/run`)).statusCode).toBe(202);
    const errors = await s.drain();
    expect(errors.map((e) => [e instanceof SyncRunError, (e as SyncRunError).retryable])).toEqual([[true, false]]);
    expect((await api('GET', `/api/v1/syncs/${syncId}`)).json().lastRunError).toMatch(/^the vault cannot be opened: Azure connection ".+" was not found$/);
  });
});
