import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from 'playwright-core';
import { launchBrowser } from '../../web/test-support/browser.ts';
import { ensureWebUiBuilt } from '../../web/test-support/build-ui.ts';
import { loadConfig } from '../src/config/config.ts';
import { startServer, type RunningServer } from '../src/server.ts';

/**
 * One browser journey's world: a real server on PGlite in a fresh data directory, Debian's
 * chromium logged in as the bootstrap admin, and the admin API token for setting the scene.
 * Screenshots go to a temporary directory, or to docs/screenshots when UPDATE_SCREENSHOTS=1
 * (README "Screens").
 */
export interface WebSession {
  server: RunningServer;
  dataDir: string;
  /** The bootstrap admin's API token. */
  token: string;
  page: Page;
  /** `http://127.0.0.1:<port>`: known before the server starts (OAuth redirect URIs need it). */
  publicUrl: string;
  url(p: string): string;
  shot(name: string): Promise<Buffer>;
  heading(name: string): Locator;
  apiCall(method: string, p: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  /** apiCall that throws on any status from 300 up. */
  apiOk(method: string, p: string, body?: unknown): Promise<Record<string, unknown>>;
  /** A temporary directory removed by close(). */
  tempDir(prefix: string): Promise<string>;
  close(): Promise<void>;
}

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** A free TCP port: the server's public URL must be known before it starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    }).on('error', reject);
  });
}

/** `env` adds configuration that depends on the public URL (e.g. an OAuth app registered for it). */
export async function openWebSession(opts: { name: string; env?: (publicUrl: string) => Record<string, string> }): Promise<WebSession> {
  await ensureWebUiBuilt();
  const tempDirs: string[] = [];
  const tempDir = async (prefix: string) => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
    tempDirs.push(dir);
    return dir;
  };
  const dataDir = await tempDir(`certbridge-${opts.name}-`);
  const shots = process.env['UPDATE_SCREENSHOTS'] === '1' ? path.join(REPO, 'docs/screenshots') : await tempDir(`certbridge-shots-${opts.name}-`);
  await fs.mkdir(shots, { recursive: true });
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const server = await startServer(loadConfig({
    CERTBRIDGE_DATA_DIR: dataDir, CERTBRIDGE_HTTP_PORT: String(port), CERTBRIDGE_HTTPS_PORT: '0', CERTBRIDGE_LOG_LEVEL: 'silent', CERTBRIDGE_PUBLIC_URL: publicUrl,
    ...opts.env?.(publicUrl),
  }));
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  const close = async () => {
    await browser?.close();
    await server.close();
    for (const dir of tempDirs) await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    const token = (await fs.readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
    const url = (p: string) => `${server.httpUrl}${p}`;
    const apiCall = async (method: string, p: string, body?: unknown) => {
      const res = await fetch(url(p), { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) as Record<string, unknown> : {} };
    };
    browser = await launchBrowser();
    const page = await browser.context.newPage();
    const heading = (name: string) => page.getByRole('heading', { level: 1, name });
    const password = (await fs.readFile(path.join(dataDir, 'admin-password'), 'utf8')).trim();
    await page.goto(url('/'));
    await page.locator('input[name="password"]').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await heading('Dashboard').waitFor();
    return {
      server, dataDir, token, page, publicUrl, url, heading, apiCall, tempDir, close,
      shot: (name) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: false }),
      apiOk: async (method, p, body) => {
        const res = await apiCall(method, p, body);
        if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(res.body)}`);
        return res.body;
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}
