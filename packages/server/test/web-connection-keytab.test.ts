import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../../web/test-support/browser.ts';
import { ensureWebUiBuilt } from '../../web/test-support/build-ui.ts';
import { loadConfig } from '../src/config/config.ts';
import { startServer, type RunningServer } from '../src/server.ts';

/**
 * The ADCS connection screen with a Kerberos keytab: Debian's chromium against a real server on
 * PGlite. The keytab is built here byte by byte in MIT's format (what `kadmin ktadd` writes) for
 * alice@EAST.CORP.TEST; no KDC is needed, as saving checks the file and the principal only (the
 * issuance with a keytab is adcs-kerberos-keytab.test.ts).
 */
function keytabFor(realm: string, user: string): Buffer {
  const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
  const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
  const data = (b: Buffer) => Buffer.concat([u16(b.length), b]);
  const body = Buffer.concat([u16(1), data(Buffer.from(realm)), data(Buffer.from(user)), u32(1), u32(1_700_000_000), Buffer.from([1]), u16(18), data(Buffer.alloc(32, 7)), u32(1)]);
  return Buffer.concat([Buffer.from([0x05, 0x02]), u32(body.length), body]);
}

let server: RunningServer;
let dataDir: string;
let token: string;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
const url = (p: string) => `${server.httpUrl}${p}`;
const connection = async (name: string) => (await (await fetch(url(`/api/v1/connections/${name}`), { headers: { authorization: `Bearer ${token}` } })).json()) as Record<string, unknown>;
const card = (name: string) => page.locator('section.panel', { has: page.getByRole('heading', { level: 2, name }) });

beforeAll(async () => {
  await ensureWebUiBuilt();
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-web-keytab-'));
  server = await startServer(loadConfig({ CERTBRIDGE_DATA_DIR: dataDir, CERTBRIDGE_HTTP_PORT: '0', CERTBRIDGE_HTTPS_PORT: '0', CERTBRIDGE_LOG_LEVEL: 'silent' }));
  token = (await fs.readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
  browser = await launchBrowser();
  page = await browser.context.newPage();
  await page.goto(url('/'));
  await page.locator('input[name="password"]').fill((await fs.readFile(path.join(dataDir, 'admin-password'), 'utf8')).trim());
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

describe('web UI: ADCS connection with a Kerberos keytab (chromium)', () => {
  const fillCommon = async (name: string) => {
    await page.getByRole('button', { name: 'New connection' }).click();
    await page.locator('input[name="conn-name"]').fill(name);
    await page.locator('input[name="conn-url"]').fill('https://ca1.east.corp.test/certsrv/');
    await page.locator('input[name="conn-domain"]').fill('EAST.CORP.TEST');
    await page.locator('input[name="conn-username"]').fill('alice');
    await page.locator('select[name="conn-auth"]').selectOption('kerberos');
  };

  it('fail/kerberos without a password or a keytab is refused before sending', async () => {
    await page.goto(url('/connections'));
    await fillCommon('krb-nothing');
    await page.getByRole('button', { name: 'Create connection' }).click();
    expect(await page.locator('.field-error').allTextContents()).toEqual(['The account’s password, or a keytab below.']);
    await page.goto(url('/connections'));
  });

  it('ok/a keytab and KDCs: saved without a password, shown as set with its principal only', async () => {
    await page.goto(url('/connections'));
    await fillCommon('krb-east');
    await page.locator('input[name="conn-keytab"]').setInputFiles({ name: 'alice.keytab', mimeType: 'application/octet-stream', buffer: keytabFor('EAST.CORP.TEST', 'alice') });
    await page.getByText(/^Read \(\d+ bytes\); sent when you save\.$/).waitFor();
    await page.locator('input[name="conn-kdcs"]').fill('127.0.0.1:8800, kdc2.east.corp.test');
    await page.getByRole('button', { name: 'Create connection' }).click();
    await card('krb-east').waitFor();
    const api = await connection('krb-east');
    expect({ facts: await card('krb-east').locator('dd').allTextContents(), passwordSet: api['passwordSet'], keytabSet: api['keytabSet'], kdcs: api['kdcs'] }).toEqual({
      facts: ['https://ca1.east.corp.test/certsrv/', 'EAST.CORP.TEST\\alice (kerberos)', 'verified', expect.any(String), 'keytab set (alice@EAST.CORP.TEST), KDCs 127.0.0.1:8800, kdc2.east.corp.test'],
      passwordSet: false, keytabSet: true, kdcs: ['127.0.0.1:8800', 'kdc2.east.corp.test'],
    });
  });

  it('fail/a keytab for another user is refused by the server with its reason', async () => {
    await fillCommon('krb-bob');
    await page.locator('input[name="conn-keytab"]').setInputFiles({ name: 'bob.keytab', mimeType: 'application/octet-stream', buffer: keytabFor('EAST.CORP.TEST', 'bob') });
    await page.getByText(/^Read \(\d+ bytes\); sent when you save\.$/).waitFor();
    await page.getByRole('button', { name: 'Create connection' }).click();
    await page.getByText('the keytab holds bob@EAST.CORP.TEST, not alice@EAST.CORP.TEST (the connection\'s username at its domain)').waitFor();
    expect((await fetch(url('/api/v1/connections/krb-bob'), { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
    await page.goto(url('/connections'));
  });

  it('ok/edit: remove the keytab and give a password instead', async () => {
    await card('krb-east').getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Remove the stored keytab').check();
    await page.locator('input[name="conn-password"]').fill('Passw0rd!');
    await page.getByRole('button', { name: 'Save connection' }).click();
    await card('krb-east').getByText('password, KDCs 127.0.0.1:8800, kdc2.east.corp.test').waitFor();
    const api = await connection('krb-east');
    expect({ passwordSet: api['passwordSet'], keytabSet: api['keytabSet'], keytabPrincipal: api['keytabPrincipal'] }).toEqual({ passwordSet: true, keytabSet: false, keytabPrincipal: null });
  });
});
