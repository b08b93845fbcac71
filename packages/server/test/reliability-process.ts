import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './enrollment-fixtures.ts';
import { startScriptNodeOptions } from './server-bundle.ts';

/**
 * A real `certbridge serve` process (node --import tsx packages/server/src/cli/main.ts serve) for
 * the secrets scan and the kill -9 / restart tests: its own data directory, PGlite or the given
 * DATABASE_URL, free loopback ports, every line it prints kept. In-process servers cannot be
 * killed mid-transaction, and their pino output bypasses process.stdout, so these tests spawn.
 */
const ROOT = path.resolve(import.meta.dirname, '../../..');
const MAIN = path.join(ROOT, 'packages/server/src/cli/main.ts');

export interface ServerProcess {
  url: string;
  dataDir: string;
  token: string;
  /** Everything the process wrote to stdout and stderr so far (all runs of this data directory). */
  output(): string;
  api(method: string, p: string, body?: unknown): Promise<{ status: number; text: string; json: () => Record<string, unknown> }>;
  /** SIGKILL, no shutdown hooks; resolves once the process is gone. */
  kill9(): Promise<void>;
  /** Graceful stop (SIGTERM). */
  stop(): Promise<void>;
  /** A new process on the same data directory, database and port. */
  restart(): Promise<ServerProcess>;
}

export interface ServerProcessOptions {
  databaseUrl?: string;
  logLevel?: string;
  env?: Record<string, string>;
  dataDir?: string;
  port?: number;
  token?: string;
  log?: string[];
  /** Run this compiled server (test/server-bundle.ts) as `npm start` does instead of the sources through tsx. */
  bundle?: string;
}

export async function spawnServer(opts: ServerProcessOptions = {}): Promise<ServerProcess> {
  const dataDir = opts.dataDir ?? await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-proc-'));
  const port = opts.port ?? await freePort();
  const token = opts.token ?? `cbt_reliability_${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  const log = opts.log ?? [];
  const args = opts.bundle ? [...startScriptNodeOptions(), opts.bundle, 'serve'] : ['--import', 'tsx', MAIN, 'serve'];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env, CERTBRIDGE_DATA_DIR: dataDir, CERTBRIDGE_HTTP_PORT: String(port), CERTBRIDGE_HTTPS_PORT: '0',
      CERTBRIDGE_PKI_URL: `http://127.0.0.1:${port}`, CERTBRIDGE_LOG_LEVEL: opts.logLevel ?? 'warn', CERTBRIDGE_BOOTSTRAP_TOKEN: token,
      ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}), ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const from = log.length; // a restart keeps the earlier runs' lines; only this run's count
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listening = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      log.push(chunk.toString('utf8'));
      if (log.slice(from).join('').includes(`Certbridge is listening on http://127.0.0.1:${port}`)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => reject(new Error(`certbridge serve exited before listening:\n${log.join('').slice(-3000)}`)));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  await listening.finally(() => clearTimeout(timer));
  const url = `http://127.0.0.1:${port}`;
  const self: ServerProcess = {
    url, dataDir, token,
    output: () => log.join(''),
    async api(method, p, body) {
      const res = await fetch(`${url}${p}`, {
        method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
    },
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
    restart: () => spawnServer({ ...opts, dataDir, port, token, log }),
  };
  return self;
}
