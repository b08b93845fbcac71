import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/config.ts';
import { startServer, type RunningServer } from '../src/server.ts';

/**
 * The real server for the EST and SCEP protocol tests: PGlite in a temp data directory, HTTP and
 * HTTPS on free loopback ports, and helpers to drive it with real tools (curl, openssl, scepclient,
 * certmonger's scep-submit) in a temp working directory.
 */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export interface ToolResult { code: number; stdout: Buffer; out: string }

/** Runs a tool; stdout as bytes, stdout + stderr as text; never throws. */
export async function tool(cmd: string, args: string[], cwd: string, opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ToolResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { cwd, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024, encoding: 'buffer', env: { ...process.env, ...opts.env } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? Number((err as { code?: number }).code) : -1) : 0;
      resolve({ code, stdout, out: `${stdout.toString('utf8')}${stderr.toString('utf8')}` });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Fails with the Debian package name when a real peer is missing (CI installs it; see .ci/run). */
export async function requireTool(file: string, debianPackage: string): Promise<void> {
  try {
    await fs.access(file);
  } catch {
    throw new Error(`${file} is missing: apt-get install -y ${debianPackage}`);
  }
}

export interface EnrollmentServer {
  server: RunningServer;
  dataDir: string;
  work: string;
  token: string;
  /** JSON API call with the admin token (plain HTTP listener). */
  api(method: string, p: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startEnrollmentServer(prefix: string): Promise<EnrollmentServer> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `certbridge-${prefix}-data-`));
  const work = await fs.mkdtemp(path.join(os.tmpdir(), `certbridge-${prefix}-work-`));
  const port = await freePort();
  const server = await startServer(loadConfig({
    CERTBRIDGE_DATA_DIR: dataDir, CERTBRIDGE_HTTP_PORT: String(port), CERTBRIDGE_HTTPS_PORT: '0',
    CERTBRIDGE_PKI_URL: `http://127.0.0.1:${port}`, CERTBRIDGE_LOG_LEVEL: 'silent',
  }));
  const token = server.bootstrap.adminToken!;
  const api = (method: string, p: string, body?: unknown) => fetchJson(`${server.httpUrl}${p}`, method, token, body);
  return {
    server, dataDir, work, token, api,
    close: async () => {
      await server.close();
      await fs.rm(dataDir, { recursive: true, force: true });
      await fs.rm(work, { recursive: true, force: true });
    },
  };
}

async function fetchJson(url: string, method: string, token: string, body?: unknown) {
  const res = await fetch(url, {
    method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
