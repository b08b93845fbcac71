import https from 'node:https';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzureSim, type AzureSim } from '@certbridge/azure-sim';
import { register, startRunner, type Runner } from '@certbridge/connector';
import { buildCsr, generateKeyPair, parseDn, pemEncode } from '@certbridge/pki';
import type { RunningServer } from '../src/server.ts';
import { MISSING_PERMISSION } from '../src/connections/azure/azure-errors.ts';
import { NO_KEY_REASON, TAG_ID } from '../src/syncs/sync-reconciler.ts';
import { rsaCertificate } from './azure-fixtures.ts';
import { openWebSession, type WebSession } from './web-session.ts';

/**
 * Browser journeys of the connector, Azure connection, Key Vault sync and dashboard screens, and
 * renewal from a certificate's page: Debian's chromium against a real server on PGlite, the real
 * connector agent and the Azure emulator. Screenshots as web-session.ts says.
 * One file over STYLE.md's 400 lines on purpose: the journeys build on each other's state (the
 * dashboard counts the offline connector made by the connector journey and the failing sync and
 * rotation of the Azure one; the phone-width check visits the pages they filled).
 */
let web: WebSession;
let server: RunningServer;
let page: Page;
let sim: AzureSim;
let tenantId: string;
let graphApp: { appId: string; keyId: string; secret: string };
let vaultApp: { appId: string; secret: string };
let runner: Runner | undefined;
let publicUrl: string;

const url = (p: string) => web.url(p);
const shot = (name: string) => web.shot(name);
const heading = (name: string) => web.heading(name);
const apiCall = (method: string, p: string, body?: unknown) => web.apiCall(method, p, body);

/** Issues through the default application: a server-generated key, or the caller's own CSR (Certbridge then holds no key). */
async function issue(cn: string, withCsr = false): Promise<string> {
  const csr = () => {
    const { privateKey, publicKey } = generateKeyPair('EC-P256');
    return pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn(`CN=${cn}`), sans: [{ type: 'dns', value: cn }], privateKey, publicKey }));
  };
  const res = await apiCall('POST', '/api/v1/applications/default/certificates', withCsr ? { profile: 'default-tls', csr: csr() } : { profile: 'default-tls', subject: { commonName: cn }, sans: [`dns:${cn}`] });
  if (res.status !== 201) throw new Error(`issuing ${cn}: ${res.status} ${JSON.stringify(res.body)}`);
  return String((res.body['certificate'] as { id: string }).id);
}

/** Fills the Azure connection form for the emulator's cloud (custom authority, its CA). */
async function fillAzureForm(name: string, type: 'azure-client-secrets' | 'azure-key-vault', clientId: string, secret: string): Promise<void> {
  await page.getByRole('button', { name: 'New Azure connection' }).click();
  await page.locator('input[name="az-name"]').fill(name);
  await page.locator('select[name="az-type"]').selectOption(type);
  await page.locator('select[name="az-cloud"]').selectOption('custom');
  await page.locator('input[name="az-authority"]').fill(sim.authorityHost);
  await page.locator('input[name="az-graph"]').fill(sim.graphUrl);
  await page.locator('textarea[name="az-ca"]').fill(sim.caPem);
  await page.locator('input[name="az-tenant"]').fill(tenantId);
  await page.locator('input[name="az-client-id"]').fill(clientId);
  await page.locator('input[name="az-client-secret"]').fill(secret);
}

beforeAll(async () => {
  sim = await startAzureSim();
  tenantId = sim.admin.addTenant({ domain: 'contoso.onmicrosoft.com' }).id;
  const rotating = sim.admin.addApp(tenantId, { displayName: 'web-rotating', graphRoles: ['Application.ReadWrite.OwnedBy'] });
  sim.admin.addOwner(rotating.appId, rotating.appId);
  const password = sim.admin.addPassword(rotating.appId, { displayName: 'initial' });
  graphApp = { appId: rotating.appId, keyId: password.keyId, secret: password.secret };
  const syncer = sim.admin.addApp(tenantId, { displayName: 'web-sync' });
  vaultApp = { appId: syncer.appId, secret: sim.admin.addPassword(syncer.appId).secret };
  await sim.admin.addVault('kv-web', { tenantId });
  sim.admin.grantVaultAccess('kv-web', syncer.appId);
  await sim.admin.addVault('kv-locked', { tenantId });
  sim.admin.addUser(tenantId, { userPrincipalName: 'alice@contoso.onmicrosoft.com', displayName: 'Alice', consent: 'grant' });

  web = await openWebSession({
    name: 'web2',
    // Certbridge's own Entra app for OAuth connections, redirecting to this server's callback.
    env: (url) => {
      const oauthApp = sim.admin.addApp(tenantId, { displayName: 'Certbridge (app secrets)', redirectUris: [`${url}/api/v1/connections/azure/oauth/callback`] });
      return { CERTBRIDGE_AZURE_CLIENT_SECRETS_OAUTH_CLIENT_ID: oauthApp.appId, CERTBRIDGE_AZURE_CLIENT_SECRETS_OAUTH_CLIENT_SECRET: sim.admin.addPassword(oauthApp.appId).secret };
    },
  });
  ({ server, page, publicUrl } = web);
}, 300_000);

afterAll(async () => {
  await runner?.stop();
  await web?.close();
  await sim?.close();
});

describe('web UI: connectors (chromium + certbridge-connector)', () => {
  let registrationToken: string;

  it('fail/the connector form refuses a name with spaces before sending', async () => {
    await page.goto(url('/connectors'));
    await page.getByText('No connectors yet.').waitFor();
    await page.locator('input[name="connector-name"]').fill('branch office');
    await page.getByRole('button', { name: 'Create connector' }).click();
    expect(await page.locator('.field-error').textContent()).toBe('Letters, digits and . _ -; up to 100, starting with a letter or digit.');
  });

  it('ok/creates a connector and shows its one-time token with the register command', async () => {
    await page.locator('input[name="connector-name"]').fill('branch-office');
    await page.locator('input[name="connector-site"]').fill('Berlin datacenter');
    await page.getByRole('button', { name: 'Create connector' }).click();
    registrationToken = (await page.getByTestId('connector-token-value').textContent())!;
    expect(registrationToken).toMatch(/^cbc1\./);
    expect(await page.getByTestId('connector-register-command').textContent()).toBe(`certbridge-connector register --server ${publicUrl} --token '${registrationToken}'`);
    const row = page.getByTestId('connectors-table').locator('tr', { hasText: 'branch-office' });
    expect(await row.locator('.status').textContent()).toBe('Offline');
    // This test server's public URL is its plain HTTP origin (for the OAuth redirect below); the agent refuses http.
    expect(await page.getByTestId('connector-token').locator('.notice-bad').textContent())
      .toBe(`This server's public URL (${publicUrl}) is not https: connectors authenticate with client certificates on the HTTPS listener, so use its https:// address in the command.`);
    await shot('connector-token');
    await page.reload();
    await page.getByTestId('connectors-table').locator('tr', { hasText: 'branch-office' }).waitFor();
    expect(await page.getByTestId('connector-token').count()).toBe(0);
  });

  it('ok/the token registers the real connector agent, which then shows online with its version', async () => {
    const dir = await web.tempDir('certbridge-web2-connector-');
    const state = await register({ server: server.httpsUrl, token: registrationToken, dir });
    runner = startRunner(state, { stateDir: dir, heartbeatMs: 200, log: () => {}, env: {} });
    const row = page.getByTestId('connectors-table').locator('tr', { hasText: 'branch-office' });
    for (let i = 0; i < 40 && (await row.locator('.status').textContent()) !== 'Online'; i++) {
      await page.waitForTimeout(250);
      await page.reload();
      await row.waitFor();
    }
    expect([await row.locator('.status').textContent(), await row.locator('td').nth(2).textContent()]).toEqual(['Online', 'Berlin datacenter']);
    expect(await row.locator('td').nth(3).textContent()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('ok/a new token for a second connector; registered but not running it is offline', async () => {
    await page.locator('input[name="connector-name"]').fill('lab');
    await page.getByRole('button', { name: 'Create connector' }).click();
    await page.getByTestId('connector-token').waitFor();
    await page.getByRole('button', { name: 'I have stored it' }).click();
    const row = page.getByTestId('connectors-table').locator('tr', { hasText: 'lab' });
    await row.getByRole('button', { name: 'New token' }).click();
    const fresh = (await page.getByTestId('connector-token-value').textContent())!;
    expect(await page.getByTestId('connector-token').textContent()).toContain('Registration token for “lab”');
    const dir = await web.tempDir('certbridge-web2-lab-');
    await register({ server: server.httpsUrl, token: fresh, dir });
    await page.reload();
    expect(await page.getByTestId('connectors-table').locator('tr', { hasText: 'lab' }).locator('.status').textContent()).toBe('Offline');
    await shot('connectors');
  });

  it('ok/revokes a connector after confirmation', async () => {
    await page.locator('input[name="connector-name"]').fill('retired');
    await page.getByRole('button', { name: 'Create connector' }).click();
    await page.getByTestId('connector-token').waitFor();
    const row = page.getByTestId('connectors-table').locator('tr', { hasText: 'retired' });
    page.once('dialog', (d) => void d.dismiss());
    await row.getByRole('button', { name: 'Revoke' }).click();
    expect(await row.locator('.status').textContent()).toBe('Offline');
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.locator('.status', { hasText: 'Revoked' }).waitFor();
    expect(await row.getByRole('button').count()).toBe(0);
    expect((await apiCall('GET', '/api/v1/connectors/retired')).body['status']).toBe('revoked');
  });
});

describe('web UI: Azure connections and Key Vault syncs (azure-sim)', () => {
  it('fail/the Azure form checks the tenant and client id before sending', async () => {
    await page.goto(url('/connections/azure'));
    await page.getByText('No Azure connections.').waitFor();
    await page.getByRole('button', { name: 'New Azure connection' }).click();
    await page.locator('input[name="az-name"]').fill('graph-rotating');
    await page.locator('input[name="az-tenant"]').fill('not a tenant');
    await page.getByRole('button', { name: 'Create connection' }).click();
    expect(await page.locator('.field-error').allTextContents()).toEqual([
      'The directory (tenant) id, a GUID, or a domain such as contoso.onmicrosoft.com.', 'The application (client) id, a GUID.', 'The client secret value (not its id).',
    ]);
    await page.getByRole('button', { name: 'Close' }).click();
  });

  it('ok/creates a client-secret connection against the emulator and tests it step by step', async () => {
    await fillAzureForm('graph-rotating', 'azure-client-secrets', graphApp.appId, graphApp.secret);
    await page.getByRole('button', { name: 'Create connection' }).click();
    const panel = page.getByTestId('azure-connection-graph-rotating');
    await panel.waitFor();
    await panel.getByRole('button', { name: 'Test connection' }).click();
    const report = panel.getByTestId('azure-test');
    await report.waitFor({ timeout: 30_000 });
    expect(await report.locator('li.step-ok').count()).toBe(2);
    expect(await report.locator('li').nth(0).textContent()).toContain(`✓ Token token for https://graph.microsoft.com from ${sim.authorityHost}`);
    expect(await report.locator('li').nth(1).textContent()).toBe(`✓ Microsoft Graph GET application ${graphApp.appId}: "web-rotating" with 1 client secret(s)`);
  });

  it('ok/turns on secret rotation: the first rotation runs at once, then every 30 days at 02:30 Berlin time', async () => {
    const panel = page.getByTestId('azure-connection-graph-rotating');
    await panel.getByRole('button', { name: 'Rotation' }).click();
    await panel.locator('input[name="rot-enabled"]').check();
    await panel.locator('input[name="rot-key-id"]').fill('not-a-guid');
    await panel.getByRole('button', { name: 'Save rotation' }).click();
    expect(await panel.locator('.field-error').textContent()).toBe('The key id (GUID) of the secret this connection holds now, from the app registration.');
    await panel.locator('input[name="rot-key-id"]').fill(graphApp.keyId);
    await panel.locator('input[name="rot-interval"]').fill('30');
    await panel.locator('input[name="rot-time"]').fill('02:30');
    await panel.locator('input[name="rot-tz"]').fill('Europe/Berlin');
    await panel.getByRole('button', { name: 'Save rotation' }).click();
    await panel.getByTestId('rotation-summary').getByText(/^every 30 days at 02:30 Europe\/Berlin/).waitFor();
    type Rotation = { enabled: boolean; keyId: string; lastRotationAt: string | null; nextRotationAt: string };
    let stored = (await apiCall('GET', '/api/v1/connections/graph-rotating')).body['rotation'] as Rotation;
    for (let i = 0; i < 60 && !stored.lastRotationAt; i++) {
      await new Promise((r) => setTimeout(r, 500));
      stored = (await apiCall('GET', '/api/v1/connections/graph-rotating')).body['rotation'] as Rotation;
    }
    const secrets = sim.admin.app(graphApp.appId)!.passwordCredentials.map((p) => p.keyId);
    expect([stored.enabled, secrets.includes(graphApp.keyId), secrets.includes(stored.keyId), new Date(stored.nextRotationAt).getTime() > Date.now() + 29 * 86_400_000])
      .toEqual([true, false, true, true]);
    await page.reload();
    await panel.getByTestId('rotation-summary').waitFor();
    expect(await panel.getByTestId('rotation-summary').textContent()).toBe('every 30 days at 02:30 Europe/Berlin');
    expect(await panel.getByTestId('last-rotation').textContent()).not.toBe('—');
    await panel.getByRole('button', { name: 'Test connection' }).click();
    await panel.getByTestId('azure-test').waitFor({ timeout: 30_000 });
    expect(await panel.getByTestId('azure-test').locator('li.step-ok').count()).toBe(2); // signs in with the rotated secret
    // "Rotate now": another rotation at once, outside the schedule.
    page.once('dialog', (d) => void d.accept());
    await panel.getByRole('button', { name: 'Rotate now' }).click();
    await panel.getByTestId('rotate-now-result').waitFor({ timeout: 60_000 });
    const rotatedAgain = (await apiCall('GET', '/api/v1/connections/graph-rotating')).body['rotation'] as Rotation;
    expect([rotatedAgain.keyId !== stored.keyId, sim.admin.app(graphApp.appId)!.passwordCredentials.map((p) => p.keyId)]).toEqual([true, [rotatedAgain.keyId]]);
    expect(await panel.getByTestId('rotate-now-result').textContent()).toBe(`Rotated: the connection now uses the secret with key id ${rotatedAgain.keyId}; the previous one was removed.`);
    await shot('azure-connections');
  });

  it('ok/"Connect to Azure": OAuth sign-in through Entra and back, then the connection tests as the user', async () => {
    // The emulator's TLS root is not in the test browser's trust store: its answers are relayed
    // through Node with that CA (the authorize endpoint signs alice in and redirects at once).
    await page.route(`${sim.authorityHost}/**`, async (route) => {
      const answer = await new Promise<{ status: number; headers: Record<string, string> }>((resolve, reject) => {
        https.get(route.request().url(), { ca: sim.caPem }, (res) => {
          res.resume();
          resolve({ status: res.statusCode!, headers: Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)])) });
        }).on('error', reject);
      });
      await route.fulfill({ status: answer.status, headers: answer.headers, body: '' });
    });
    await page.getByRole('button', { name: 'New Azure connection' }).click();
    await page.locator('input[name="az-name"]').fill('oauth-graph');
    await page.locator('select[name="az-method"]').selectOption('oauth');
    await page.locator('select[name="az-cloud"]').selectOption('custom');
    await page.locator('input[name="az-authority"]').fill(sim.authorityHost);
    await page.locator('input[name="az-graph"]').fill(sim.graphUrl);
    await page.locator('textarea[name="az-ca"]').fill(sim.caPem);
    await page.locator('input[name="az-tenant"]').fill(tenantId);
    await page.locator('input[name="az-login-hint"]').fill('alice@contoso.onmicrosoft.com');
    await page.getByRole('button', { name: 'Connect to Azure' }).click();
    await page.waitForURL((u) => u.pathname === '/connections/azure' && u.searchParams.has('connection'), { timeout: 30_000 });
    await page.unroute(`${sim.authorityHost}/**`);
    expect(await page.getByTestId('oauth-result').textContent()).toBe('Connected “oauth-graph” as alice@contoso.onmicrosoft.com. Use “Test connection” to check its permissions. Dismiss');
    const panel = page.getByTestId('azure-connection-oauth-graph');
    await panel.getByRole('button', { name: 'Test connection' }).click();
    await panel.getByTestId('azure-test').waitFor({ timeout: 30_000 });
    expect(await panel.getByTestId('azure-test').locator('li').nth(1).textContent()).toBe('✓ Microsoft Graph GET /me: signed in as alice@contoso.onmicrosoft.com');
    await page.getByTestId('oauth-result').getByRole('button', { name: 'Dismiss' }).click();
    await page.waitForURL((u) => u.pathname === '/connections/azure' && !u.searchParams.has('connection'));
    // The URL changes before React drops the banner: wait for it to go (a timeout fails the test).
    await page.getByTestId('oauth-result').waitFor({ state: 'detached', timeout: 10_000 });
    expect(await page.getByTestId('oauth-result').count()).toBe(0);
  });

  it('ok/creates a Key Vault connection; its test lists the vault', async () => {
    await fillAzureForm('kv-emulator', 'azure-key-vault', vaultApp.appId, vaultApp.secret);
    await page.locator('input[name="az-vault"]').fill(sim.vaultUrl('kv-web'));
    await page.getByRole('button', { name: 'Create connection' }).click();
    const panel = page.getByTestId('azure-connection-kv-emulator');
    await panel.getByRole('button', { name: 'Test connection' }).click();
    const report = panel.getByTestId('azure-test');
    await report.waitFor({ timeout: 30_000 });
    expect(await report.locator('li').nth(1).textContent()).toBe(`✓ Key Vault listed certificates of ${sim.vaultUrl('kv-web')} (maxresults=1): 0 returned`);
  });

  it('fail/a Key Vault connection without an access policy: the test shows the refused step and the missing permission', async () => {
    const created = await apiCall('POST', '/api/v1/connections', {
      name: 'kv-no-access', type: 'azure-key-vault', method: 'client-secret', tenantId, clientId: vaultApp.appId, clientSecret: vaultApp.secret,
      authorityHost: sim.authorityHost, graphUrl: sim.graphUrl, caPem: sim.caPem, vaultName: sim.vaultUrl('kv-locked'),
    });
    expect(created.status).toBe(201);
    await page.reload();
    const panel = page.getByTestId('azure-connection-kv-no-access');
    await panel.getByRole('button', { name: 'Test connection' }).click();
    const report = panel.getByTestId('azure-test');
    await report.waitFor({ timeout: 30_000 });
    expect([await report.locator('li.step-ok').count(), await report.locator('li.step-bad').count()]).toEqual([1, 1]);
    expect(await report.locator('li.step-bad code').allTextContents()).toEqual(['HTTP 403']);
    const refused = (await report.locator('li.step-bad').textContent())!;
    expect([refused.startsWith(`✗ Key Vault keyvault.listCertificates was refused (403 Forbidden): the connection needs ${MISSING_PERMISSION['keyvault.listCertificates'].application}. Azure said: `), refused.endsWith(' HTTP 403')])
      .toEqual([true, true]);
    await panel.scrollIntoViewIfNeeded();
    await shot('azure-test-refused');
  });

  it('ok/edits the connection: another default vault, where it has access, makes the test pass', async () => {
    const panel = page.getByTestId('azure-connection-kv-no-access');
    await panel.getByRole('button', { name: 'Edit' }).click();
    await panel.locator('input[name="edit-vault"]').fill('not a vault');
    await panel.getByRole('button', { name: 'Save connection' }).click();
    expect(await panel.locator('.field-error').textContent()).toBe('A vault name (3–24 letters, digits, dashes) or its https:// URL.');
    await panel.locator('input[name="edit-vault"]').fill(sim.vaultUrl('kv-web'));
    await panel.getByRole('button', { name: 'Save connection' }).click();
    await panel.getByTestId('azure-edit-form').waitFor({ state: 'detached' });
    // The form closes when the change is saved; the list shows it once its reload has answered.
    await panel.locator('dd', { hasText: sim.vaultUrl('kv-web') }).waitFor();
    expect(await panel.locator('dd', { hasText: sim.vaultUrl('kv-web') }).count()).toBe(1);
    await panel.getByRole('button', { name: 'Test connection' }).click();
    await panel.getByTestId('azure-test').locator('li.step-ok').nth(1).waitFor({ timeout: 30_000 });
    expect(await panel.getByTestId('azure-test').locator('li.step-bad').count()).toBe(0);
  });

  it('ok/creates a connection that signs in with a certificate (PEM certificate and key)', async () => {
    const app = sim.admin.addApp(tenantId, { displayName: 'web-cert', graphRoles: ['Application.ReadWrite.OwnedBy'] });
    sim.admin.addOwner(app.appId, app.appId);
    const { certPem, keyPem } = rsaCertificate('certbridge-web-cert');
    const { thumbprint } = sim.admin.addCertificate(app.appId, certPem);
    await page.getByRole('button', { name: 'New Azure connection' }).click();
    await page.locator('select[name="az-method"]').selectOption('certificate');
    await page.locator('input[name="az-name"]').fill('graph-cert');
    await page.locator('select[name="az-cloud"]').selectOption('custom');
    await page.locator('input[name="az-authority"]').fill(sim.authorityHost);
    await page.locator('input[name="az-graph"]').fill(sim.graphUrl);
    await page.locator('textarea[name="az-ca"]').fill(sim.caPem);
    await page.locator('input[name="az-tenant"]').fill(tenantId);
    await page.locator('input[name="az-client-id"]').fill(app.appId);
    await page.locator('textarea[name="az-cert"]').fill(certPem);
    await page.locator('textarea[name="az-key"]').fill(certPem);
    await page.getByRole('button', { name: 'Create connection' }).click();
    expect(await page.locator('.field-error').textContent()).toBe('Its unencrypted RSA private key (PEM).');
    await page.locator('textarea[name="az-key"]').fill(keyPem);
    await page.getByRole('button', { name: 'Create connection' }).click();
    const panel = page.getByTestId('azure-connection-graph-cert');
    expect((await panel.locator('dd').nth(1).textContent())!.startsWith(`certificate ${thumbprint.toUpperCase()}, expires `)).toBe(true);
    await panel.getByRole('button', { name: 'Test connection' }).click();
    await panel.getByTestId('azure-test').waitFor({ timeout: 30_000 });
    expect(await panel.getByTestId('azure-test').locator('li').nth(1).textContent()).toBe(`✓ Microsoft Graph GET application ${app.appId}: "web-cert" with 0 client secret(s)`);
  });

  it('ok/creates a sync; the certificate with a server-side key is synced into the vault', async () => {
    const certId = await issue('sync.example.test');
    const csrCertId = await issue('csr.example.test', true);
    await page.goto(url('/syncs'));
    await page.getByText('No syncs.').waitFor();
    await page.getByRole('button', { name: 'New sync' }).click();
    await page.locator('input[name="sync-name"]').fill('web-vault');
    await page.getByRole('button', { name: 'Create sync' }).click();
    expect(await page.locator('.field-error').textContent()).toBe('Choose at least one application or profile whose certificates go to the vault.');
    await page.locator('input[name="sync-profile-default-tls"]').check();
    await page.getByRole('button', { name: 'Create sync' }).click();
    await page.getByTestId('syncs-table').getByRole('link', { name: 'web-vault' }).click();
    await heading('Sync web-vault').waitFor();
    const row = page.getByTestId('sync-items').locator('tr', { hasText: 'sync.example.test' });
    const states = () => page.getByTestId('sync-items').locator('tbody .status').allTextContents().catch(() => []);
    for (let i = 0; i < 60 && (await states()).sort().join() !== 'Skipped,Synced'; i++) {
      await page.waitForTimeout(500);
      await page.getByRole('button', { name: 'Refresh' }).click();
    }
    const [inVault] = sim.admin.vault('kv-web').certificates().filter((c) => c.versions.some((v) => v.tags[TAG_ID] === certId));
    expect(inVault).toBeDefined();
    expect([await row.locator('.status').textContent(), await row.locator('td').nth(2).textContent(), await row.locator('td').nth(3).textContent()])
      .toEqual(['Synced', inVault!.name, inVault!.versions[0]!.version]);
    const skipped = page.getByTestId('sync-items').locator('tr', { hasText: 'csr.example.test' });
    expect([await skipped.locator('.status').textContent(), await skipped.locator('td').nth(5).textContent(), await skipped.getByRole('link').getAttribute('href')])
      .toEqual(['Skipped', NO_KEY_REASON, `/certificates/${csrCertId}`]);
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.getByRole('status').filter({ hasText: 'Run queued.' }).waitFor();
    await shot('sync-detail');
    await page.goto(url('/syncs'));
    await page.getByTestId('syncs-table').waitFor();
    await shot('syncs');
  });

  it('ok/edits the sync to delete revoked certificates; a revoked certificate then shows Deleted and is deleted in the vault', async () => {
    await page.getByTestId('syncs-table').getByRole('link', { name: 'web-vault' }).click();
    await heading('Sync web-vault').waitFor();
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.locator('select[name="sync-on-revocation"]').selectOption('delete');
    await page.getByRole('button', { name: 'Save sync' }).click();
    await page.locator('dl.facts dd', { hasText: /^delete$/ }).waitFor();
    const certId = String(((await apiCall('GET', '/api/v1/syncs/web-vault/certificates')).body['items'] as { certificateId: string; subject: string }[])
      .find((i) => i.subject.includes('sync.example.test'))!.certificateId);
    expect((await apiCall('POST', `/api/v1/certificates/${certId}/revoke`, { reason: 'superseded' })).status).toBe(200);
    const row = page.getByTestId('sync-items').locator('tr', { hasText: 'sync.example.test' });
    for (let i = 0; i < 60 && (await row.locator('.status').textContent()) !== 'Deleted'; i++) {
      await page.waitForTimeout(500);
      await page.getByRole('button', { name: 'Refresh' }).click();
    }
    const vaultName = (await row.locator('td').nth(2).textContent())!;
    expect([await row.locator('.status').textContent(), sim.admin.vault('kv-web').certificate(vaultName)!.deleted]).toEqual(['Deleted', true]);
    await page.goto(url('/syncs'));
  });

  it('ok/the dashboard counts a failing sync, a failed rotation and an offline connector', async () => {
    // An app registration without the Graph permission to add secrets: its first rotation fails.
    const weak = sim.admin.addApp(tenantId, { displayName: 'web-no-rights' });
    const weakSecret = sim.admin.addPassword(weak.appId);
    const created = await apiCall('POST', '/api/v1/connections', {
      name: 'graph-no-rights', type: 'azure-client-secrets', method: 'client-secret', tenantId, clientId: weak.appId, clientSecret: weakSecret.secret,
      authorityHost: sim.authorityHost, graphUrl: sim.graphUrl, caPem: sim.caPem,
    });
    expect(created.status).toBe(201);
    const enabled = await apiCall('PATCH', '/api/v1/connections/graph-no-rights', { rotation: { enabled: true, keyId: weakSecret.keyId, intervalDays: 90, time: '04:00', timeZone: 'UTC' } });
    expect(enabled.status).toBe(200);
    let rotationError: unknown = null;
    for (let i = 0; i < 60 && !rotationError; i++) {
      await new Promise((r) => setTimeout(r, 500));
      rotationError = (await apiCall('GET', '/api/v1/connections/graph-no-rights')).body['lastError'];
    }
    expect(rotationError).toEqual(expect.stringContaining('403'));
    await issue('locked.example.test');
    const locked = await apiCall('POST', '/api/v1/syncs', { name: 'locked-vault', connection: 'kv-emulator', vaultUrl: sim.vaultUrl('kv-locked'), profiles: ['default-tls'] });
    expect(locked.status).toBe(201);
    let failed = 0;
    for (let i = 0; i < 60 && !failed; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const items = (await apiCall('GET', '/api/v1/syncs/locked-vault/certificates')).body['items'] as { state: string }[];
      failed = items.filter((x) => x.state === 'failed').length;
    }
    expect(failed).toBeGreaterThan(0);
    await page.goto(url('/'));
    await page.getByTestId('failed-syncs').getByText(/^\d+$/).waitFor();
    await page.getByTestId('connectors-offline').getByText(/^\d+$/).waitFor();
    await page.getByTestId('failed-rotations').getByText(/^\d+$/).waitFor();
    expect([await page.getByTestId('failed-syncs').textContent(), await page.getByTestId('connectors-offline').textContent(), await page.getByTestId('failed-rotations').textContent()])
      .toEqual(['1', '1', '1']);
    expect(await page.locator('.notice-bad', { hasText: 'Secret rotation of graph-no-rights failed' }).textContent()).toBe(`Secret rotation of graph-no-rights failed: ${String(rotationError)}`);
    await page.locator('.notice-bad', { hasText: 'Key Vault sync locked-vault' }).waitFor();
    expect(await page.locator('.notice-bad', { hasText: 'Connector lab' }).textContent()).toBe('Connector lab is offline; last heartbeat —');
    await shot('dashboard-alerts');
  });

  it('ok/deletes a sync after confirmation; the dashboard no longer counts it', async () => {
    await page.locator('.notice-bad', { hasText: 'Key Vault sync locked-vault' }).getByRole('link', { name: 'locked-vault' }).click();
    await heading('Sync locked-vault').waitFor();
    await page.getByTestId('sync-items').locator('.status', { hasText: 'Failed' }).first().waitFor();
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete' }).click();
    await heading('Key Vault syncs').waitFor();
    await page.getByTestId('syncs-table').waitFor();
    expect(await page.getByTestId('syncs-table').locator('tbody tr').allTextContents()).toEqual([expect.stringMatching(/^web-vault/)]);
    await page.goto(url('/'));
    await page.getByTestId('failed-syncs').getByText(/^\d+$/).waitFor();
    expect(await page.getByTestId('failed-syncs').textContent()).toBe('0');
  });
});

describe('web UI: ADCS screens', () => {
  it('ok/Azure connections do not appear among ADCS connections, nor as servers of a new ADCS CA', async () => {
    await page.goto(url('/connections'));
    await page.getByText('No ADCS connections.').waitFor();
    expect(await page.locator('section.panel h2').count()).toBe(0);
    await page.goto(url('/cas'));
    await page.getByRole('button', { name: 'Add ADCS CA' }).click();
    await page.getByText('No ADCS connection yet.').waitFor();
  });
});

describe('web UI: phone width', () => {
  it('ok/the new screens fit 390 px: no horizontal scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [route, ready] of [['/connectors', 'connectors-table'], ['/syncs', 'syncs-table'], ['/connections/azure', 'azure-connection-graph-rotating']] as const) {
      await page.goto(url(route));
      await page.getByTestId(ready).waitFor();
      expect(await page.locator('html').evaluate((html) => html.scrollWidth)).toBeLessThanOrEqual(390);
      // Tables scroll inside their frame when they must; the connectors table does not need to.
      if (route === '/connectors') expect(await page.getByTestId(ready).evaluate((t) => t.parentElement!.scrollWidth <= t.parentElement!.clientWidth)).toBe(true);
    }
    await page.goto(url('/connectors'));
    await page.getByTestId('connectors-table').waitFor();
    await shot('phone-connectors');
    await page.setViewportSize({ width: 1280, height: 860 });
  });
});

describe('web UI: renew', () => {
  it('ok/renews a certificate from its page: a new certificate with the same subject, linked to the old one', async () => {
    const oldId = await issue('renew.example.test');
    await page.goto(url(`/certificates/${oldId}`));
    await page.getByTestId('cert-subject').waitFor();
    await page.getByRole('button', { name: 'Renew' }).click();
    await page.waitForURL((u) => /\/certificates\/[0-9a-f-]{36}$/.test(u.pathname) && !u.pathname.endsWith(oldId));
    const newId = page.url().split('/').pop()!;
    await page.getByRole('link', { name: 'previous certificate' }).waitFor();
    expect([await page.getByTestId('cert-subject').textContent(), await page.getByTestId('cert-status').textContent(), await page.getByRole('link', { name: 'previous certificate' }).getAttribute('href')])
      .toEqual(['CN=renew.example.test', 'Active', `/certificates/${oldId}`]);
    expect((await apiCall('GET', `/api/v1/certificates/${newId}`)).body['renewedFromId']).toBe(oldId);
  });
});
