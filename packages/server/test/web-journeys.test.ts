import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdcsSim, type AdcsSim } from '@certbridge/adcs-sim';
import { launchBrowser } from '../../web/test-support/browser.ts';
import { ensureWebUiBuilt } from '../../web/test-support/build-ui.ts';
import { loadConfig } from '../src/config/config.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { SIM_PASSWORD, simConfig } from './adcs-fixtures.ts';

/**
 * The main journeys of the web UI in a real browser (Debian's chromium through playwright-core)
 * against a real server on PGlite, started as `npm start` starts it. Screenshots go to a temporary
 * directory, or to docs/screenshots when UPDATE_SCREENSHOTS=1 (README "Screens").
 */
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CN = 'web-journey.example.test';

let server: RunningServer;
let dataDir: string;
let shots: string;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
let certificateUrl: string;
let sim: AdcsSim;

const url = (p: string) => `${server.httpUrl}${p}`;
const shot = (name: string) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: false });
const heading = (name: string) => page.getByRole('heading', { level: 1, name });

/** A few certificates through the API so the dashboard chart and the inventory have data. */
async function seedCertificates(): Promise<void> {
  const token = (await fs.readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
  for (const [name, validityDays] of [['billing', 5], ['intranet', 21], ['vpn', 38], ['mail', 44], ['api', 75]] as const) {
    const res = await fetch(url('/api/v1/applications/default/certificates'), {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ profile: 'default-tls', subject: { commonName: `${name}.example.test` }, sans: [`dns:${name}.example.test`], validityDays }),
    });
    if (res.status !== 201) throw new Error(`seeding ${name}: HTTP ${res.status} ${await res.text()}`);
  }
}

beforeAll(async () => {
  await ensureWebUiBuilt();
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-web-'));
  shots = process.env['UPDATE_SCREENSHOTS'] === '1' ? path.join(REPO, 'docs/screenshots') : await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-shots-'));
  await fs.mkdir(shots, { recursive: true });
  // The defaults of `npm start` (public URL on https, so Secure cookies), on free ports.
  server = await startServer(loadConfig({ CERTBRIDGE_DATA_DIR: dataDir, CERTBRIDGE_HTTP_PORT: '0', CERTBRIDGE_HTTPS_PORT: '0', CERTBRIDGE_LOG_LEVEL: 'silent' }));
  await seedCertificates();
  const base = simConfig();
  sim = await startAdcsSim({ ...base, templates: [...(base.templates ?? []), { cn: 'SubCA', displayName: 'Subordinate Certification Authority', enroll: ['alice'], isCa: true }] });
  browser = await launchBrowser();
  page = await browser.context.newPage();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await sim?.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
  if (process.env['UPDATE_SCREENSHOTS'] !== '1' && shots) await fs.rm(shots, { recursive: true, force: true });
});

describe('web UI journeys (chromium)', () => {
  it('ok/first login with the bootstrap password lands on the dashboard', async () => {
    await page.goto(url('/'));
    await expect(page.getByRole('button', { name: 'Log in' }).isVisible()).resolves.toBe(true);
    await shot('login');
    await page.locator('input[name="password"]').fill('wrong password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByRole('alert').textContent({ timeout: 10_000 })).resolves.toContain('UNAUTHENTICATED');

    const password = (await fs.readFile(path.join(dataDir, 'admin-password'), 'utf8')).trim();
    await page.locator('input[name="password"]').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await heading('Dashboard').waitFor();
    expect(await page.locator('.whoami').textContent()).toBe('admin admin');
  });

  it('fail/the issue form refuses an empty common name before sending', async () => {
    await page.goto(url('/issue'));
    await page.locator('select[name="profile"] option').first().waitFor({ state: 'attached' });
    await page.getByRole('button', { name: 'Issue certificate' }).click();
    expect(await page.locator('.field-error').first().textContent()).toBe('A common name is required.');
  });

  it('ok/issues a certificate with a server-generated key in the default application', async () => {
    await page.goto(url('/issue'));
    await page.locator('select[name="profile"] option', { hasText: 'default-tls' }).waitFor({ state: 'attached' });
    expect(await page.locator('select[name="application"] option:checked').textContent()).toBe('default');
    await page.locator('input[name="cn"]').fill(CN);
    await page.locator('input[name="o"]').fill('Example Corp');
    await page.locator('textarea[name="sans"]').fill(`${CN}\n10.1.2.3`);
    await page.locator('select[name="keyAlgorithm"]').selectOption('EC-P384');
    await shot('issue');
    await page.getByRole('button', { name: 'Issue certificate' }).click();
    await page.waitForURL(/\/certificates\/[0-9a-f-]{36}$/);
    certificateUrl = page.url();
    expect(await page.getByTestId('cert-subject').textContent()).toBe(`CN=${CN}, O=Example Corp`);
    expect(await page.getByTestId('cert-status').textContent()).toBe('Active');
    await page.getByRole('heading', { name: 'Extensions' }).waitFor();
    await shot('certificate-detail');
  });

  it('ok/the certificate is in the inventory', async () => {
    await page.goto(url('/certificates'));
    const row = page.getByTestId('certificates-table').locator('tr', { hasText: CN });
    await row.waitFor();
    expect(await row.locator('.status').textContent()).toBe('Active');
    await shot('certificates');
    await page.goto(url(`/certificates?q=${CN}`));
    await page.getByTestId('certificates-table').waitFor();
    expect(await page.getByTestId('certificates-table').locator('tbody tr').count()).toBe(1);
  });

  it('ok/downloads the PKCS#12 protected by the chosen password', async () => {
    await page.goto(certificateUrl);
    await page.locator('input[name="p12-password"]').fill('short');
    await page.getByRole('button', { name: 'Download PKCS#12' }).click();
    expect(await page.locator('.field-error').textContent()).toBe('At least 8 characters: the file holds the private key.');
    await page.locator('input[name="p12-password"]').fill('a web passphrase');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download PKCS#12' }).click()]);
    const file = path.join(dataDir, 'journey.p12');
    await download.saveAs(file);
    expect(download.suggestedFilename()).toMatch(/\.p12$/);
    const { stdout } = await promisify(execFile)('openssl', ['pkcs12', '-in', file, '-passin', 'pass:a web passphrase', '-nodes', '-clcerts']);
    expect([/^subject=.*CN = web-journey\.example\.test/m.test(stdout), stdout.includes('-----BEGIN PRIVATE KEY-----')]).toEqual([true, true]);
  });

  it('ok/revokes it with a reason and shows Revoked', async () => {
    await page.goto(certificateUrl);
    await page.locator('select[name="reason"]').selectOption('keyCompromise');
    await page.getByRole('button', { name: 'Revoke…' }).click();
    await page.getByRole('button', { name: 'Confirm: revoke now' }).click();
    await page.getByTestId('cert-status').getByText(/^Revoked$/).waitFor();
    expect(await page.getByTestId('cert-status').textContent()).toMatch(/^Revoked on .+ \(keyCompromise\)$/);
  });

  it('ok/creates a user, and shows a new API token once', async () => {
    await page.goto(url('/users'));
    await page.locator('input[name="new-username"]').fill('admin');
    await page.locator('input[name="new-user-password"]').fill('a long enough password');
    await page.getByRole('button', { name: 'Create user' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/^CONFLICT /);
    await page.locator('input[name="new-username"]').fill('web-alice');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByTestId('users-table').locator('tr', { hasText: 'web-alice' }).waitFor();
    await shot('users');

    await page.goto(url('/tokens'));
    await page.locator('input[name="token-name"]').fill('ci pipeline');
    await page.locator('select[name="token-user"]').selectOption({ label: 'web-alice' });
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = (await page.getByTestId('token-secret').locator('code.secret').textContent())!;
    await shot('tokens');
    const me = await fetch(url('/api/v1/auth/me'), { headers: { authorization: `Bearer ${secret}` } });
    expect(await me.json()).toMatchObject({ username: 'web-alice', role: 'requester' });
    await page.reload();
    await page.getByTestId('tokens-table').locator('tr', { hasText: 'ci pipeline' }).waitFor();
    expect(await page.getByTestId('token-secret').count()).toBe(0);
  });

  it('ok/the other screens render with their data', async () => {
    await page.goto(url('/'));
    await page.getByTestId('expiring-90').getByText(/^\d+$/).waitFor();
    await page.locator('svg.chart').waitFor();
    await shot('dashboard');
    for (const [route, title, table, name] of [
      ['/cas', 'Certificate authorities', 'cas-table', 'cas'], ['/profiles', 'Profiles', 'profiles-table', 'profiles'],
      ['/policies', 'Policies', 'policies-table', 'policies'], ['/orders', 'Orders', 'orders-table', 'orders'],
    ] as const) {
      await page.goto(url(route));
      await heading(title).waitFor();
      await page.getByTestId(table).waitFor();
      await shot(name);
    }
    expect(await page.getByTestId('orders-table').locator('tr', { hasText: CN }).locator('.status').textContent()).toBe('Issued');
    await page.goto(url('/applications/default'));
    await page.getByTestId('members-table').or(page.getByText('No members yet.')).waitFor();
    await shot('application');
    await page.goto(url('/audit'));
    await page.getByRole('button', { name: 'Verify chain' }).click();
    expect(await page.getByTestId('audit-verify').textContent()).toMatch(/^Chain intact: \d+ rows verified/);
    await shot('audit');
  });

  it('ok/phone width: the menu opens from the top bar', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(url('/certificates'));
    await page.getByTestId('certificates-table').waitFor();
    expect(await page.locator('nav.sidebar').isVisible()).toBe(false);
    await shot('phone-certificates');
    await page.getByRole('button', { name: 'Menu' }).click();
    expect(await page.locator('nav.sidebar').isVisible()).toBe(true);
    await shot('phone-menu');
    await page.locator('nav.sidebar').getByRole('link', { name: 'Dashboard' }).click();
    await heading('Dashboard').waitFor();
    expect(await page.locator('nav.sidebar').isVisible()).toBe(false);
    await page.setViewportSize({ width: 1280, height: 860 });
  });

});

describe('web UI journeys with ADCS (adcs-sim)', () => {
  it('ok/creates an ADCS connection and tests it step by step', async () => {
    await page.goto(url('/connections'));
    await page.getByText('No ADCS connections.').waitFor();
    await page.getByRole('button', { name: 'New connection' }).click();
    await page.locator('input[name="conn-name"]').fill('corp-ca1');
    await page.locator('input[name="conn-url"]').fill(sim.url);
    await page.locator('input[name="conn-domain"]').fill('CORP');
    await page.locator('input[name="conn-username"]').fill('alice');
    await page.locator('input[name="conn-password"]').fill(SIM_PASSWORD);
    await page.locator('select[name="conn-auth"]').selectOption('basic');
    await page.locator('textarea[name="conn-ca"]').fill(sim.tlsCaPem);
    await page.getByRole('button', { name: 'Create connection' }).click();
    await page.getByRole('heading', { level: 2, name: 'corp-ca1' }).waitFor();
    await page.getByRole('button', { name: 'Test connection' }).click();
    const report = page.getByTestId('connection-test');
    await report.waitFor({ timeout: 30_000 });
    expect(await report.locator('li.step-bad').count()).toBe(0);
    expect(await report.locator('li', { hasText: 'Templates' }).textContent()).toContain('WebServer');
    await shot('connections');
  });

  it('ok/creates an ADCS CA over the connection and refreshes its templates', async () => {
    await page.goto(url('/cas'));
    await page.getByRole('button', { name: 'Add ADCS CA' }).click();
    await page.locator('input[name="adcs-name"]').fill('Corp ADCS');
    await page.getByLabel('Connection').selectOption({ label: `corp-ca1 (${sim.url})` });
    await page.locator('input[name="adcs-quick-retries"]').fill('0');
    await page.getByRole('button', { name: 'Create ADCS CA' }).click();
    await heading('Corp ADCS').waitFor();
    await page.getByRole('button', { name: 'Refresh from ADCS' }).click();
    await page.locator('td.mono', { hasText: 'ManagerApproval' }).waitFor({ timeout: 30_000 });
    expect(await page.locator('td.mono').allTextContents()).toEqual(expect.arrayContaining(['WebServer', 'ManagerApproval']));
    await shot('ca-adcs');
  });

  it('ok/creates an internal intermediate CA signed by ADCS', async () => {
    await page.locator('input[name="sub-name"]').fill('Corp Issuing');
    await page.locator('input[name="sub-subject"]').fill('CN=Corp Issuing CA, O=Example Corp');
    await page.locator('select[name="sub-template"]').selectOption('SubCA');
    await page.getByRole('button', { name: 'Create intermediate' }).click();
    await heading('Corp Issuing').waitFor({ timeout: 30_000 });
    expect([await page.locator('.page-header .status').textContent(), await page.locator('dl.facts dd').first().textContent()]).toEqual(['Active', 'Internal intermediate']);
  });

  it('ok/makes a profile with the approval template and an application using it', async () => {
    await page.goto(url('/profiles'));
    await page.getByRole('button', { name: 'New profile' }).click();
    await page.locator('input[name="profile-slug"]').fill('corp-approval');
    await page.locator('select[name="profile-ca"]').selectOption({ label: 'Corp ADCS (ADCS)' });
    await page.locator('select[name="profile-policy"]').selectOption({ label: 'permissive' });
    await page.locator('select[name="profile-template"] option', { hasText: 'ManagerApproval' }).waitFor({ state: 'attached' });
    await page.locator('select[name="profile-template"]').selectOption('ManagerApproval');
    await page.getByRole('button', { name: 'Create profile' }).click();
    await page.getByTestId('profiles-table').locator('tr', { hasText: 'corp-approval' }).waitFor();

    await page.goto(url('/applications'));
    await page.getByRole('button', { name: 'New application' }).click();
    await page.locator('input[name="app-name"]').fill('corp-web');
    await page.getByLabel('corp-approval').check();
    await page.getByRole('button', { name: 'Create application' }).click();
    await heading('corp-web').waitFor();
    expect(await page.locator('#enroll-profile option').allTextContents()).toEqual(['corp-approval']);
  });

  it('ok/a pending order turns Issued after approval in the emulator', async () => {
    await page.getByRole('link', { name: 'Issue certificate' }).last().click();
    await page.locator('select[name="profile"] option', { hasText: 'corp-approval' }).waitFor({ state: 'attached' });
    await page.locator('input[name="cn"]').fill('approval.corp.example.test');
    await page.locator('textarea[name="sans"]').fill('approval.corp.example.test');
    await page.getByRole('button', { name: 'Issue certificate' }).click();
    await page.getByRole('status').filter({ hasText: 'waiting for the CA' }).waitFor({ timeout: 60_000 });
    const pending = sim.listRequests().filter((r) => r.disposition === 'pending');
    expect(pending.length).toBe(1);

    await page.goto(url('/orders?status=pending'));
    const row = page.getByTestId('orders-table').locator('tr', { hasText: 'approval.corp.example.test' });
    await row.waitFor();
    expect([await row.locator('.status').textContent(), await row.locator('td.mono').textContent()]).toEqual(['Pending', String(pending[0]!.id)]);
    expect([await row.locator('td').nth(3).textContent(), await row.locator('td').nth(4).locator('.muted').textContent()]).toEqual(['CORP', 'corp-ca1']);
    await page.getByLabel('Common name').fill('APPROVAL.corp');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/commonName=APPROVAL\.corp/);
    await row.waitFor();
    await shot('orders-pending');
    await sim.approve(pending[0]!.id);
    await page.goto(url('/orders'));
    await row.getByRole('button', { name: 'Fetch' }).click();
    await row.locator('.status', { hasText: 'Issued' }).waitFor({ timeout: 30_000 });
    await row.getByRole('link', { name: 'approval.corp.example.test' }).click();
    expect(await page.getByTestId('cert-status').textContent()).toBe('Active');
  });
});

describe('web UI session end', () => {
  it('ok/changes the own password, then logs in with it', async () => {
    await page.goto(url('/account'));
    expect(await page.getByTestId('me-username').textContent()).toBe('admin');
    await page.locator('input[name="new-password"]').fill('the new admin passphrase');
    await page.locator('input[name="confirm-password"]').fill('the new admin passphrase!');
    await page.getByRole('button', { name: 'Change password' }).click();
    expect(await page.locator('.field-error').textContent()).toBe('The two passwords differ.');
    await page.locator('input[name="confirm-password"]').fill('the new admin passphrase');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('status').filter({ hasText: 'Password changed.' }).waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.locator('input[name="password"]').fill('the new admin passphrase');
    await page.getByRole('button', { name: 'Log in' }).click();
    await heading('Your account').waitFor(); // logging in again keeps the page the user was on
  });

  it('ok/logout returns to the login page and the session is gone', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    const cookies = await browser.context.cookies(server.httpUrl);
    expect(cookies.filter((c) => c.name === 'certbridge_session')).toEqual([]);
  });
});
