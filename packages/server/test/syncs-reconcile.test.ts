import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCsr, generateKeyPair, parseDn, pemEncode } from '@certbridge/pki';
import { NO_KEY_REASON, SyncRunError, TAG_ID, TAG_SERIAL } from '../src/syncs/sync-reconciler.ts';
import { bearer, ENGINES } from './helpers.ts';
import { createMemoryVault, createSyncEnv, type SyncEnv } from './sync-fixtures.ts';

/**
 * Key Vault sync logic on a real database with an in-memory vault: full sync, renewal as a new
 * version, revocation (disable / delete), drift repair, throttling, keys Certbridge does not hold.
 * The same journeys against the Azure emulator through the real SDK are in syncs-azure.test.ts.
 */
describe.each(ENGINES)('Key Vault sync reconcile (%s)', (engine) => {
  const vault = createMemoryVault();
  let s: SyncEnv;
  let syncId: string;
  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
    s.env.app.inject({ method, url, headers: bearer(s.env.adminToken), ...(payload ? { payload } : {}) });
  const items = async () => (await api('GET', `/api/v1/syncs/${syncId}/certificates`)).json().items as { certificateId: string; state: string; reason: string | null; vaultName: string | null; vaultVersion: string | null; lastError: string | null; lastSyncedAt: string | null }[];
  const item = async (certificateId: string) => (await items()).find((i) => i.certificateId === certificateId);

  beforeAll(async () => {
    s = await createSyncEnv(engine, async () => vault.client);
    await s.core.azure.connections.create(s.admin, {
      name: 'kv', type: 'azure-key-vault', method: 'client-secret', tenantId: '8c5e3b5e-1111-4a3b-9c1d-0e2f3a4b5c6d', clientId: '0b7d2f43-2222-4b6c-8d7e-1f2a3b4c5d6e',
      clientSecret: 'not used: the vault is in memory', vaultName: 'certbridge-test',
    });
  }, 60_000);
  afterAll(async () => s?.env.close());

  let keyed: string;
  let csrOnly: string;

  it('ok/creating a sync queues the initial full sync; keyed certificates are imported, the others skipped with the reason', async () => {
    keyed = (await s.issue('app.sync.test')).id;
    const { privateKey, publicKey } = generateKeyPair('EC-P256');
    const csr = pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn('CN=csr.sync.test'), sans: [{ type: 'dns', value: 'csr.sync.test' }], privateKey, publicKey }));
    csrOnly = (await s.issue('csr.sync.test', csr)).id;
    s.queued.length = 0;
    const res = await api('POST', '/api/v1/syncs', { name: 'to-kv', connection: 'kv', applications: ['default'] });
    expect(res.statusCode).toBe(201);
    syncId = res.json().id;
    expect(res.json()).toMatchObject({ vaultUrl: 'https://certbridge-test.vault.azure.net', onRevocation: 'disable', enabled: true, lastRunAt: null });
    expect(s.queued).toEqual([{ kind: 'sync', syncId }]);
    expect(await item(keyed)).toMatchObject({ state: 'pending', vaultName: null, lastSyncedAt: null });
    expect(await s.drain()).toEqual([]);
    const synced = (await item(keyed))!;
    expect(synced).toMatchObject({ state: 'synced', reason: null, lastError: null });
    expect(synced.vaultName).toMatch(/^app-sync-test-[0-9a-f]{10}$/);
    const [version] = vault.versions(synced.vaultName!);
    expect(version).toMatchObject({ version: synced.vaultVersion, enabled: true, tags: { [TAG_ID]: keyed, [TAG_SERIAL]: (await s.core.repos.certificates.find(keyed))!.serial_hex } });
    expect(await item(csrOnly)).toMatchObject({ state: 'skipped', reason: NO_KEY_REASON, vaultName: null });
  });

  it('ok/a renewal becomes a new version of the same vault certificate (event-driven, through the queue)', async () => {
    const before = (await item(keyed))!;
    const res = await api('POST', `/api/v1/certificates/${keyed}/renew`, {});
    expect(res.statusCode).toBe(201);
    const renewed = res.json().certificate.id as string;
    expect(s.queued).toEqual([{ kind: 'certificate', certificateId: renewed }]);
    expect(await s.drain()).toEqual([]);
    const after = (await item(renewed))!;
    expect(after).toMatchObject({ state: 'synced', vaultName: before.vaultName });
    expect(vault.versions(before.vaultName!).map((v) => v.version)).toEqual([before.vaultVersion, after.vaultVersion]);
    expect(await item(keyed)).toMatchObject({ state: 'synced', vaultVersion: before.vaultVersion });
    keyed = renewed;
  });

  it('ok/revocation disables the version in the vault', async () => {
    const synced = (await item(keyed))!;
    expect((await api('POST', `/api/v1/certificates/${keyed}/revoke`, { reason: 'keyCompromise' })).statusCode).toBe(200);
    expect(await s.drain()).toEqual([]);
    expect(await item(keyed)).toMatchObject({ state: 'disabled', vaultVersion: synced.vaultVersion });
    expect(vault.versions(synced.vaultName!).find((v) => v.version === synced.vaultVersion)!.enabled).toBe(false);
  });

  it('ok/with onRevocation delete the vault certificate is deleted; renewing it later recovers the name and keeps the revoked version disabled', async () => {
    expect((await api('PATCH', `/api/v1/syncs/${syncId}`, { onRevocation: 'delete' })).json().onRevocation).toBe('delete');
    const cert = (await s.issue('del.sync.test')).id;
    expect(await s.drain()).toEqual([]);
    const synced = (await item(cert))!;
    await api('POST', `/api/v1/certificates/${cert}/revoke`, { reason: 'superseded' });
    expect(await s.drain()).toEqual([]);
    expect(await item(cert)).toMatchObject({ state: 'deleted' });
    expect(vault.live.has(synced.vaultName!)).toBe(false);
    expect(vault.deleted.has(synced.vaultName!)).toBe(true);

    const renewed = (await api('POST', `/api/v1/certificates/${cert}/renew`, {})).json().certificate.id as string;
    expect(await s.drain()).toEqual([]);
    expect(await item(renewed)).toMatchObject({ state: 'synced', vaultName: synced.vaultName });
    expect(vault.versions(synced.vaultName!).map((v) => [v.tags[TAG_ID], v.enabled])).toEqual([[cert, false], [renewed, true]]);
  });

  it('ok/the reconcile ("run now") re-imports a certificate deleted in the vault behind Certbridge', async () => {
    const cert = (await s.issue('drift.sync.test')).id;
    expect(await s.drain()).toEqual([]);
    const name = (await item(cert))!.vaultName!;
    vault.live.delete(name);
    const res = await api('POST', `/api/v1/syncs/${syncId}/run`);
    expect(res.statusCode).toBe(202);
    expect(await s.drain()).toEqual([]);
    const repaired = (await item(cert))!;
    expect(repaired.state).toBe('synced');
    expect(vault.versions(name).map((v) => v.version)).toEqual([repaired.vaultVersion]);
  });

  it('ok/the reconcile re-enables the current version when someone disabled it in the vault', async () => {
    const cert = (await s.issue('disabled.sync.test')).id;
    expect(await s.drain()).toEqual([]);
    const { vaultName, vaultVersion } = (await item(cert))!;
    vault.versions(vaultName!)[0]!.enabled = false;
    await api('POST', `/api/v1/syncs/${syncId}/run`);
    expect(await s.drain()).toEqual([]);
    expect(vault.versions(vaultName!).map((v) => [v.version, v.enabled])).toEqual([[vaultVersion, true]]);
    expect(await item(cert)).toMatchObject({ state: 'synced', vaultVersion });
  });

  it('ok/a certificate renewed before it reached the vault is skipped as superseded; only its renewal is sent', async () => {
    const first = (await s.issue('quick.sync.test')).id;
    const renewed = (await api('POST', `/api/v1/certificates/${first}/renew`, {})).json().certificate.id as string;
    expect(await s.drain()).toEqual([]);
    expect(await item(first)).toMatchObject({ state: 'skipped', reason: `superseded by its renewal ${renewed}`, vaultVersion: null });
    const sent = (await item(renewed))!;
    expect(vault.versions(sent.vaultName!).map((v) => v.tags[TAG_ID])).toEqual([renewed]);
  });

  it('ok/throttling left after the client retries records the error and the retried job ends synced', async () => {
    const cert = (await s.issue('throttle.sync.test')).id;
    vault.throttle(1);
    const errors = await s.drain();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SyncRunError);
    expect((errors[0] as SyncRunError).retryable).toBe(true);
    expect(await item(cert)).toMatchObject({ state: 'failed', lastError: expect.stringContaining('throttling requests (429)') });
    expect((await api('GET', `/api/v1/syncs/${syncId}`)).json().lastRunError).toContain('429');
    // pg-boss retries the failed job with backoff; here the retry is run directly.
    await s.core.syncs.handle({ kind: 'certificate', certificateId: cert });
    expect(await item(cert)).toMatchObject({ state: 'synced', lastError: null });
    expect((await api('GET', `/api/v1/syncs/${syncId}`)).json().lastRunError).toBeNull();
  });
});
