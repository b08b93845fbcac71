/** Key Vault certificates driven by the official @azure/keyvault-certificates client over HTTPS. */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientSecretCredential } from '@azure/identity';
import { CertificateClient, WellKnownIssuer } from '@azure/keyvault-certificates';
import { startAzureSim, type AzureSim, type TenantInfo, type AppInfo } from '../src/index.ts';
import { issuedPfx } from './helpers.ts';

let sim: AzureSim;
let tenant: TenantInfo;
let app: AppInfo;
let client: CertificateClient;
let credential: ClientSecretCredential;

const clientOptions = () => ({ disableChallengeResourceVerification: true, tlsOptions: { ca: sim.caPem }, retryOptions: { retryDelayInMs: 50, maxRetryDelayInMs: 200 } });

beforeAll(async () => {
  sim = await startAzureSim();
  tenant = sim.admin.addTenant();
  app = sim.admin.addApp(tenant.id, { displayName: 'sync' });
  const { secret } = sim.admin.addPassword(app.appId);
  await sim.admin.addVault('kv-sync', { tenantId: tenant.id });
  sim.admin.grantVaultAccess('kv-sync', app.appId);
  credential = new ClientSecretCredential(tenant.id, app.appId, secret, { authorityHost: sim.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: sim.caPem } });
  client = new CertificateClient(sim.vaultUrl('kv-sync'), credential, clientOptions());
});
afterAll(() => sim.close());

/** What a sync passes; SDK 4.10.3 does not send it (see README), so the import default policy applies, which is the same. */
const noAutoRenew = { issuerName: WellKnownIssuer.Unknown, lifetimeActions: [{ lifetimePercentage: 80, action: 'EmailContacts' as const }], contentType: 'application/x-pkcs12' as const };

describe('Key Vault certificates through the SDK', () => {
  it('ok/importCertificate of a PFX with chain, issuer Unknown, tags; then a second version', async () => {
    const first = issuedPfx('web.example.test', 'pfx-pass');
    const imported = await client.importCertificate('web-example-test', first.pfx, { password: 'pfx-pass', policy: noAutoRenew, tags: { serial: 'aa01', certbridgeId: 'c-1' } });
    expect(imported.properties.version).toMatch(/^[0-9a-f]{32}$/);
    expect([imported.name, imported.properties.vaultUrl, imported.properties.tags]).toEqual(['web-example-test', sim.vaultUrl('kv-sync'), { serial: 'aa01', certbridgeId: 'c-1' }]);
    expect(Buffer.from(imported.cer ?? []).equals(Buffer.from(first.leafDer))).toBe(true);
    expect(Buffer.from(imported.properties.x509Thumbprint ?? []).toString('hex')).toBe(createHash('sha1').update(first.leafDer).digest('hex'));
    expect([imported.policy?.issuerName, imported.policy?.lifetimeActions]).toEqual(['Unknown', [{ lifetimePercentage: 80, action: 'EmailContacts' }]]);
    const second = issuedPfx('web.example.test', 'other');
    const renewed = await client.importCertificate('web-example-test', second.pfx, { password: 'other', tags: { serial: 'aa02' } });
    const versions = [];
    for await (const p of client.listPropertiesOfCertificateVersions('web-example-test')) versions.push(p.version);
    expect(versions.sort()).toEqual([imported.properties.version, renewed.properties.version].sort());
    const names = [];
    for await (const p of client.listPropertiesOfCertificates()) names.push(p.name);
    expect(names).toEqual(['web-example-test']);
    const latest = await client.getCertificate('web-example-test');
    expect(latest.properties.version).toBe(renewed.properties.version);
    const older = await client.getCertificateVersion('web-example-test', imported.properties.version ?? '');
    expect(older.properties.tags).toEqual({ serial: 'aa01', certbridgeId: 'c-1' });
    const view = sim.admin.vault('kv-sync').certificate('web-example-test');
    expect([view?.versions.length, view?.versions[0].chainLength, view?.autoRenew, view?.policy.issuer.name]).toEqual([2, 1, false, 'Unknown']);
  });

  it('ok/updateCertificateProperties disables a version and replaces its tags', async () => {
    const { pfx } = issuedPfx('api.example.test', 'pw');
    const cert = await client.importCertificate('api', pfx, { password: 'pw', policy: noAutoRenew });
    const updated = await client.updateCertificateProperties('api', cert.properties.version ?? '', { enabled: false, tags: { revoked: 'keyCompromise' } });
    expect([updated.properties.enabled, updated.properties.tags]).toEqual([false, { revoked: 'keyCompromise' }]);
    expect(sim.admin.vault('kv-sync').certificate('api')?.versions.map((v) => v.enabled)).toEqual([false]);
  });

  it('ok/beginDeleteCertificate soft-deletes; fail/reimport before purge is 409; ok/purge frees the name', async () => {
    const { pfx } = issuedPfx('old.example.test', 'pw');
    await client.importCertificate('old', pfx, { password: 'pw', policy: noAutoRenew });
    const poller = await client.beginDeleteCertificate('old', { intervalInMs: 10 });
    const deleted = await poller.pollUntilDone();
    expect([deleted.name, deleted.recoveryId]).toEqual(['old', `${sim.vaultUrl('kv-sync')}/deletedcertificates/old`]);
    expect(sim.admin.vault('kv-sync').certificate('old')?.deleted).toBe(true);
    await expect(client.importCertificate('old', pfx, { password: 'pw' })).rejects.toMatchObject({ statusCode: 409, code: 'Conflict' });
    await client.purgeDeletedCertificate('old');
    expect(sim.admin.vault('kv-sync').certificate('old')).toBeUndefined();
    expect((await client.importCertificate('old', pfx, { password: 'pw' })).name).toBe('old');
  });

  it('ok/updateCertificatePolicy after import sets the lifetime actions (SDK 4.10 drops the policy given to importCertificate)', async () => {
    const { pfx } = issuedPfx('auto.example.test', 'pw');
    await client.importCertificate('auto', pfx, { password: 'pw', policy: { issuerName: 'Unknown', lifetimeActions: [{ daysBeforeExpiry: 30, action: 'AutoRenew' }] } });
    expect(sim.admin.vault('kv-sync').certificate('auto')?.autoRenew).toBe(false);
    await client.updateCertificatePolicy('auto', { issuerName: 'Unknown', subject: 'CN=auto.example.test', lifetimeActions: [{ daysBeforeExpiry: 30, action: 'AutoRenew' }] });
    expect(sim.admin.vault('kv-sync').certificate('auto')?.autoRenew).toBe(true);
    expect((await client.getCertificatePolicy('auto')).lifetimeActions).toEqual([{ daysBeforeExpiry: 30, action: 'AutoRenew' }]);
  });

  it('fail/a PEM through the SDK arrives without its content type and is read as PKCS#12: 400 BadParameter', async () => {
    const { pem } = issuedPfx('pem.example.test', 'unused');
    await expect(client.importCertificate('pem-cert', Buffer.from(pem), { policy: { issuerName: 'Unknown', contentType: 'application/x-pem-file' } })).rejects.toMatchObject({ statusCode: 400, code: 'BadParameter' });
  });

  it('fail/wrong PFX password is 400 BadParameter', async () => {
    const { pfx } = issuedPfx('bad.example.test', 'right');
    await expect(client.importCertificate('bad', pfx, { password: 'wrong' })).rejects.toMatchObject({ statusCode: 400, code: 'BadParameter' });
  });

  it('fail/a caller without an access policy gets 403 Forbidden naming the permission', async () => {
    const outsider = sim.admin.addApp(tenant.id);
    const secret = sim.admin.addPassword(outsider.appId).secret;
    const cred = new ClientSecretCredential(tenant.id, outsider.appId, secret, { authorityHost: sim.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: sim.caPem } });
    const other = new CertificateClient(sim.vaultUrl('kv-sync'), cred, clientOptions());
    const err = await other.getCertificate('api').then(
      () => ({ statusCode: 200, code: '', message: '' }),
      (e: unknown) => e as { statusCode: number; code: string; message: string },
    );
    expect([err.statusCode, err.code]).toEqual([403, 'Forbidden']);
    expect(err.message).toContain(`does not have certificates get permission on key vault 'kv-sync;location=westeurope'`);
  });

  it('ok/throttling: two 429s with Retry-After are retried by the SDK', async () => {
    sim.admin.clearCalls();
    sim.admin.injectFault({ service: 'vault', status: 429, count: 2, retryAfterSeconds: 1 });
    const cert = await client.getCertificate('api');
    expect(cert.name).toBe('api');
    expect(sim.admin.calls('vault').map((c) => [c.status, c.faulted])).toEqual([[429, true], [429, true], [200, false]]);
  });

  it('fail/unknown certificate is 404 CertificateNotFound', async () => {
    await expect(client.getCertificate('missing')).rejects.toMatchObject({ statusCode: 404, code: 'CertificateNotFound' });
  });
});
