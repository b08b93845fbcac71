import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdcsSim, type AdcsSim } from '@certbridge/adcs-sim';
import { startAzureSim, type AzureSim } from '@certbridge/azure-sim';
import { register } from '@certbridge/connector';
import type { RunningServer } from '../src/server.ts';
import { SIM_PASSWORD, simConfig } from './adcs-fixtures.ts';
import { openWebSession, type WebSession } from './web-session.ts';

/**
 * Browser journeys of the last screens of issue 9: ADCS CAs reached through on-prem connectors
 * (create, edit the pool), SCEP RA certificate rotation, a failed "Connect to Azure" landing on
 * the UI, and the Orders page following order changes live (server-sent events) with polling as
 * the fallback. Debian's chromium against a real server on PGlite, the ADCS and Azure emulators
 * and the real connector agent's registration. Screenshots as web-session.ts says.
 */
let web: WebSession;
let server: RunningServer;
let page: Page;
let adcs: AdcsSim;
let azure: AzureSim;
let tenantId: string;

const url = (p: string) => web.url(p);
const shot = (name: string) => web.shot(name);
const heading = (name: string) => web.heading(name);
const apiCall = (method: string, p: string, body?: unknown) => web.apiCall(method, p, body);
const apiOk = (method: string, p: string, body?: unknown) => web.apiOk(method, p, body);

/** A connector registered with the real agent's `register`, then never run: offline. */
async function registeredConnector(name: string): Promise<string> {
  const created = await apiOk('POST', '/api/v1/connectors', { name });
  const dir = await web.tempDir(`certbridge-web3-${name}-`);
  await register({ server: server.httpsUrl, token: String(created['registrationToken']), dir });
  return String((await apiOk('GET', `/api/v1/connectors/${name}`))['id']);
}

/** Issues in the approval application: ADCS takes it under submission, so the order is pending. */
async function pendingOrder(cn: string): Promise<string> {
  const res = await apiCall('POST', '/api/v1/applications/live-orders/certificates', { profile: 'approval', subject: { commonName: cn }, sans: [`dns:${cn}`] });
  if (res.status !== 202) throw new Error(`expected a pending order for ${cn}: ${res.status} ${JSON.stringify(res.body)}`);
  return String((res.body['order'] as { id: string }).id);
}

beforeAll(async () => {
  adcs = await startAdcsSim(simConfig());
  azure = await startAzureSim();
  tenantId = azure.admin.addTenant({ domain: 'contoso.onmicrosoft.com' }).id;
  azure.admin.addUser(tenantId, { userPrincipalName: 'mallory@contoso.onmicrosoft.com', displayName: 'Mallory', consent: 'deny' });
  web = await openWebSession({
    name: 'web3',
    env: (publicUrl) => {
      const oauthApp = azure.admin.addApp(tenantId, { displayName: 'Certbridge (app secrets)', redirectUris: [`${publicUrl}/api/v1/connections/azure/oauth/callback`] });
      return { CERTBRIDGE_AZURE_CLIENT_SECRETS_OAUTH_CLIENT_ID: oauthApp.appId, CERTBRIDGE_AZURE_CLIENT_SECRETS_OAUTH_CLIENT_SECRET: azure.admin.addPassword(oauthApp.appId).secret };
    },
  });
  ({ server, page } = web);

  // An ADCS CA whose ManagerApproval template pends every request (the live Orders journey).
  await apiOk('POST', '/api/v1/connections', { type: 'adcs', name: 'corp-adcs', url: adcs.url, domain: 'CORP', username: 'alice', password: SIM_PASSWORD, auth: 'basic', caPem: adcs.tlsCaPem });
  await apiOk('POST', '/api/v1/cas/adcs', { name: 'Corp ADCS', servers: [{ connection: 'corp-adcs', priority: 1 }], settings: { quickRetries: 0 } });
  await apiOk('POST', '/api/v1/profiles', { slug: 'approval', ca: 'Corp ADCS', policy: 'permissive', template: 'ManagerApproval' });
  await apiOk('POST', '/api/v1/applications', { name: 'live-orders', profiles: ['approval'] });
}, 300_000);

afterAll(async () => {
  await web?.close();
  await adcs?.stop();
  await azure?.close();
});

describe('web UI: ADCS CAs through on-prem connectors', () => {
  let branch1: string;
  let branch2: string;

  it('fail/the connector CA form checks name, pool and servers before sending', async () => {
    branch1 = await registeredConnector('branch-1');
    branch2 = await registeredConnector('branch-2');
    let sent = 0;
    page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/api/v1/cas/connector')) sent++; });
    await page.goto(url('/cas'));
    await page.getByRole('button', { name: 'Add CA via connector' }).click();
    await page.locator('input[name="conn-ca-name"]').fill('bad/name');
    await page.locator('input[name="conn-ca-timeout"]').fill('0');
    await page.getByRole('button', { name: 'Create connector CA' }).click();
    expect({ errors: await page.locator('.field-error').allTextContents(), sent }).toEqual({
      errors: ['Letters, digits, space, . _ -; up to 100.', 'Choose a connector in every row (at least one).', 'Each server needs a connection and a priority from 1 to 100.', '1 to 86400 seconds.'],
      sent: 0,
    });
  });

  it('fail/the server refusing the CA shows its code and message', async () => {
    await page.locator('input[name="conn-ca-name"]').fill('Corp ADCS');
    await page.getByLabel('Connector 1').selectOption({ label: 'branch-1 (offline)' });
    await page.getByLabel('Connection').selectOption({ label: `corp-adcs (${adcs.url})` });
    await page.locator('input[name="conn-ca-timeout"]').fill('60');
    await page.getByRole('button', { name: 'Create connector CA' }).click();
    expect(await page.getByRole('alert').textContent()).toBe('CONFLICT a CA named Corp ADCS exists');
  });

  it('ok/creates a CA over a pool of two registered (offline) connectors', async () => {
    await page.locator('input[name="conn-ca-name"]').fill('Branch ADCS');
    await page.getByRole('button', { name: 'Add connector' }).click();
    await page.getByLabel('Connector 2').selectOption({ label: 'branch-2 (offline)' });
    await page.locator('input[name="conn-ca-caname"]').fill('Corp Issuing CA 1');
    await page.getByRole('button', { name: 'Create connector CA' }).click();
    await heading('Branch ADCS').waitFor();
    const pool = page.getByTestId('connector-pool');
    await pool.locator('tr', { hasText: 'branch-2' }).waitFor();
    expect({
      type: await page.locator('dl.facts dd').first().textContent(),
      pool: (await pool.locator('tbody tr').allTextContents()),
      servers: await page.locator('.panel', { hasText: 'ADCS servers (reached by the connectors)' }).locator('tbody tr td').first().textContent(),
    }).toEqual({ type: 'ADCS via connector', pool: ['1branch-1Offline—0 / 0', '2branch-2Offline—0 / 0'], servers: '1' });
    const ca = await apiOk('GET', '/api/v1/cas/Branch ADCS');
    expect(ca['connector']).toEqual({ connectors: [branch1, branch2], jobTimeoutSeconds: 60, sanAttribute: false, caName: 'Corp Issuing CA 1' });
    await shot('ca-connector');
  });

  it('fail/the pool editor refuses a connector twice before sending', async () => {
    await page.getByRole('button', { name: 'Edit pool' }).click();
    await page.getByLabel('Connector 2').selectOption({ label: 'branch-1 (offline)' });
    await page.getByRole('button', { name: 'Save pool' }).click();
    expect(await page.locator('.panel', { hasText: 'Connector pool' }).locator('.field-error').textContent()).toBe('Each connector once.');
  });

  it('ok/edits the pool: branch-2 alone, first member first', async () => {
    await page.getByLabel('Connector 1').selectOption({ label: 'branch-2 (offline)' });
    await page.getByTestId('pool-editor').getByRole('button', { name: 'Remove' }).nth(1).click();
    await page.getByRole('button', { name: 'Save pool' }).click();
    await page.getByRole('button', { name: 'Edit pool' }).waitFor();
    expect(await page.getByTestId('connector-pool').locator('tbody tr td:nth-child(2)').allTextContents()).toEqual(['branch-2']);
    expect(((await apiOk('GET', '/api/v1/cas/Branch ADCS'))['connector'] as { connectors: string[] }).connectors).toEqual([branch2]);
  });
});

describe('web UI: SCEP RA certificate rotation', () => {
  const raPem = async () => ((await apiOk('GET', '/api/v1/applications/default/enrollment/default-tls'))['scep'] as { raCertificate: string }).raCertificate;

  it('fail/dismissing the confirmation keeps the RA certificate', async () => {
    await apiOk('PUT', '/api/v1/applications/default/enrollment/default-tls', { scep: { enabled: true, challenge: 'dynamic' } });
    const before = await raPem();
    await page.goto(url('/applications/default'));
    const ra = page.getByTestId('scep-ra');
    await ra.waitFor();
    await ra.getByTestId('scep-ra-fingerprint').filter({ hasText: ':' }).waitFor();
    expect(await ra.getByTestId('scep-ra-fingerprint').textContent()).toBe(new X509Certificate(before).fingerprint256);
    page.once('dialog', (d) => void d.dismiss());
    await ra.getByRole('button', { name: 'Rotate RA certificate' }).click();
    expect([await raPem(), await page.getByTestId('scep-ra-rotated').count()]).toEqual([before, 0]);
  });

  it('ok/rotates after confirmation and shows the new fingerprint and expiry', async () => {
    const before = new X509Certificate(await raPem());
    let question = '';
    page.once('dialog', (d) => { question = d.message(); void d.accept(); });
    await page.getByTestId('scep-ra').getByRole('button', { name: 'Rotate RA certificate' }).click();
    const notice = page.getByTestId('scep-ra-rotated');
    await notice.getByTestId('scep-ra-new-fingerprint').filter({ hasText: ':' }).waitFor();
    const after = new X509Certificate(await raPem());
    const shown = await notice.getByTestId('scep-ra-new-fingerprint').textContent();
    expect({ question, changed: after.fingerprint256 !== before.fingerprint256, shown, grace: (await notice.textContent())!.includes('still opens requests until') })
      .toEqual({ question: 'Rotate the SCEP RA certificate of default-tls? Clients get the new one from GetCACert; the current one keeps opening requests for 7 days.', changed: true, shown: after.fingerprint256, grace: true });
    await page.getByTestId('scep-ra-fingerprint').filter({ hasText: after.fingerprint256 }).waitFor();
    const expiry = await notice.getByTestId('scep-ra-new-expiry').textContent();
    expect(expiry).toBe(await page.evaluate((d) => new Date(d).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }), new Date(after.validTo).toISOString()));
    await page.getByTestId('scep-ra').scrollIntoViewIfNeeded();
    await shot('scep-ra-rotated');
  });
});

describe('web UI: a failed "Connect to Azure"', () => {
  it('fail/denied consent lands on the Azure connections page with the code and message', async () => {
    // The emulator's TLS root is not in the browser's trust store: relay its answers through Node (web-journeys-2).
    await page.route(`${azure.authorityHost}/**`, async (route) => {
      const answer = await new Promise<{ status: number; headers: Record<string, string> }>((resolve, reject) => {
        https.get(route.request().url(), { ca: azure.caPem }, (res) => {
          res.resume();
          resolve({ status: res.statusCode!, headers: Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)])) });
        }).on('error', reject);
      });
      await route.fulfill({ status: answer.status, headers: answer.headers, body: '' });
    });
    await page.goto(url('/connections/azure'));
    await page.getByRole('button', { name: 'New Azure connection' }).click();
    await page.locator('input[name="az-name"]').fill('oauth-denied');
    await page.locator('select[name="az-method"]').selectOption('oauth');
    await page.locator('select[name="az-cloud"]').selectOption('custom');
    await page.locator('input[name="az-authority"]').fill(azure.authorityHost);
    await page.locator('input[name="az-graph"]').fill(azure.graphUrl);
    await page.locator('textarea[name="az-ca"]').fill(azure.caPem);
    await page.locator('input[name="az-tenant"]').fill(tenantId);
    await page.locator('input[name="az-login-hint"]').fill('mallory@contoso.onmicrosoft.com');
    await page.getByRole('button', { name: 'Connect to Azure' }).click();
    await page.waitForURL((u) => u.pathname === '/connections/azure' && u.searchParams.has('oauthError'), { timeout: 30_000 });
    await page.unroute(`${azure.authorityHost}/**`);
    const banner = page.getByTestId('oauth-error');
    expect([await banner.locator('.error-code').textContent(), await banner.textContent()]).toEqual(['BAD_REQUEST',
      '“Connect to Azure” did not complete. BAD_REQUEST Azure sign-in ended with access_denied: AADSTS65004: User declined to consent to access the app.reason: consent_deniedNothing was created; start the sign-in again with “New Azure connection”. Dismiss']);
    expect((await apiCall('GET', '/api/v1/connections/oauth-denied')).status).toBe(404);
    await shot('azure-oauth-failed');
    await banner.getByRole('button', { name: 'Dismiss' }).click();
    await banner.waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('fail/an API client calling the callback without HTML still gets the JSON error', async () => {
    const res = await fetch(url('/api/v1/connections/azure/oauth/callback?state=unknown&code=x'), { redirect: 'manual' });
    expect({ status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code }).toEqual({ status: 400, code: 'BAD_REQUEST' });
  });
});

describe('web UI: orders update live', () => {
  const row = (cn: string) => page.getByTestId('orders-table').locator('tr', { hasText: cn });
  let second: string;

  it('ok/a new pending order appears and turns Issued without reloading or polling', async () => {
    let listRequests = 0;
    page.on('request', (r) => { if (r.url().includes('/api/v1/orders?')) listRequests++; });
    await page.goto(url('/orders'));
    await page.getByTestId('orders-feed').filter({ hasText: 'Live' }).waitFor({ timeout: 15_000 });
    const first = await pendingOrder('live-1.corp.example.test');
    await row('live-1.corp.example.test').locator('.status', { hasText: 'Pending' }).waitFor({ timeout: 15_000 });
    const pending = adcs.listRequests().filter((r) => r.disposition === 'pending');
    await adcs.approve(pending.at(-1)!.id);
    await apiOk('POST', `/api/v1/orders/${first}/fetch`);
    await row('live-1.corp.example.test').locator('.status', { hasText: 'Issued' }).waitFor({ timeout: 15_000 });
    second = await pendingOrder('live-2.corp.example.test');
    await row('live-2.corp.example.test').locator('.status', { hasText: 'Pending' }).waitFor({ timeout: 15_000 });
    // A pending order is listed and the stream is live: no 5-second polling (the list is only reloaded on a change).
    const loads = listRequests;
    await page.waitForTimeout(6500);
    expect({ feed: await page.getByTestId('orders-feed').textContent(), reloads: listRequests - loads }).toEqual({ feed: 'Live: changes appear as they happen', reloads: 0 });
    await shot('orders-live');
  });

  it('ok/when the event stream is refused the page says so and polls pending orders', async () => {
    await page.route('**/api/v1/orders/events*', (route) => route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":{"code":"UNAVAILABLE","message":"down"}}' }));
    await page.reload();
    await page.getByTestId('orders-feed').filter({ hasText: 'refresh every 5 s' }).waitFor({ timeout: 15_000 });
    await apiOk('DELETE', `/api/v1/orders/${second}`);
    await row('live-2.corp.example.test').locator('.status', { hasText: 'Cancelled' }).waitFor({ timeout: 20_000 });
    // Nothing is pending any more: the page stops polling until the stream is back.
    expect(await page.getByTestId('orders-feed').textContent()).toBe('Live updates unavailable: reconnecting');
    await page.unroute('**/api/v1/orders/events*');
  });
});

describe('web UI: phone width', () => {
  const scrollWidth = () => page.locator('html').evaluate((html) => html.scrollWidth);

  it('ok/the connector CA form and page, the SCEP RA panel and live orders fit 390 px: no horizontal scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      const seen: [string, number][] = [];
      const ca = String((await apiOk('GET', '/api/v1/cas/Branch ADCS'))['id']);
      for (const [route, ready] of [[`/cas/${ca}`, 'connector-pool'], ['/applications/default', 'scep-ra'], ['/orders', 'orders-table']] as const) {
        await page.goto(url(route));
        await page.getByTestId(ready).waitFor();
        seen.push([route, await scrollWidth()]);
      }
      await page.goto(url('/cas'));
      await page.getByRole('button', { name: 'Add CA via connector' }).click();
      await page.getByTestId('pool-editor').waitFor();
      // The form's checkbox label holds EDITF_ATTRIBUTESUBJECTALTNAME2, one long word that must wrap.
      seen.push(['/cas (connector form)', await scrollWidth()]);
      expect(seen.filter(([, width]) => width > 390)).toEqual([]);
    } finally {
      await page.setViewportSize({ width: 1280, height: 860 });
    }
  });
});
