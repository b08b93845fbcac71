/**
 * Fixtures for the connector tests: a real `startServer` (HTTP + HTTPS on port 0, PGlite in a
 * temp dir or a fresh PostgreSQL database), the API over fetch, and a connector registered into
 * a temp state directory.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { register, startRunner, type ConnectorState, type Runner, type RunnerOptions } from '@certbridge/connector';
import { loadConfig } from '../src/config/config.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { freshDatabase, type Engine } from './helpers.ts';

export interface ServerHandle {
  server: RunningServer;
  /** The admin API token. */
  token: string;
  api(method: string, p: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Stops and starts the server on the same ports and storage (a restart). */
  restart(): Promise<void>;
  /** Stops the server, runs `during` with the environment of its storage (the CLI; PGlite is single-process), starts it again. */
  offline<T>(during: (env: Record<string, string>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** What a second instance on the same PostgreSQL database shares with the first. */
export interface SharedInstance { url: string; masterKey: string; token: string }

export async function startTestServer(engine: Engine, extraDirs: string[], shared?: SharedInstance): Promise<ServerHandle & { shared?: SharedInstance }> {
  const db = engine === 'postgres' && !shared ? await freshDatabase('postgres') : undefined;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-connector-'));
  extraDirs.push(dir);
  const randomBytesKey = shared?.masterKey ?? randomBytes(32).toString('base64');
  const token = shared?.token ?? `cbt_conn_${randomBytes(16).toString('hex')}`;
  const url = shared?.url ?? db?.url;
  const env = (http = '0', https = '0') => loadConfig({
    ...(url ? { DATABASE_URL: url } : {}), CERTBRIDGE_DATA_DIR: dir, CERTBRIDGE_HTTP_PORT: http, CERTBRIDGE_HTTPS_PORT: https,
    CERTBRIDGE_MASTER_KEY: randomBytesKey, CERTBRIDGE_BOOTSTRAP_TOKEN: token, CERTBRIDGE_LOG_LEVEL: 'silent',
    CERTBRIDGE_PUBLIC_URL: 'https://127.0.0.1', CERTBRIDGE_PKI_URL: 'http://pki.connector.test', CERTBRIDGE_LISTEN: '127.0.0.1',
  });
  const handle: ServerHandle & { shared?: SharedInstance } = {
    ...(url ? { shared: { url, masterKey: randomBytesKey, token } } : {}),
    server: await startServer(env()),
    token,
    async api(method, p, body) {
      const res = await fetch(`${handle.server.httpUrl}${p}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
      return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? ((await res.json()) as Record<string, unknown>) : {} };
    },
    async restart() {
      await handle.offline(async () => undefined);
    },
    async offline(during) {
      const http = new URL(handle.server.httpUrl).port;
      const https = new URL(handle.server.httpsUrl).port;
      await handle.server.close();
      try {
        return await during({ ...(url ? { DATABASE_URL: url } : {}), CERTBRIDGE_DATA_DIR: dir, CERTBRIDGE_MASTER_KEY: randomBytesKey, CERTBRIDGE_LOG_LEVEL: 'silent' });
      } finally {
        handle.server = await startServer(env(http, https));
      }
    },
    async close() {
      await handle.server.close();
      await db?.drop();
    },
  };
  return handle;
}

/** Creates a connector over the API and registers it into a fresh state directory. */
export async function registeredConnector(h: ServerHandle, name: string, dirs: string[]): Promise<{ state: ConnectorState; dir: string; id: string }> {
  const created = await h.api('POST', '/api/v1/connectors', { name, site: 'HQ' });
  if (created.status !== 201) throw new Error(`connector ${name}: ${created.status} ${JSON.stringify(created.body)}`);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-connector-state-'));
  dirs.push(dir);
  const state = await register({ server: h.server.httpsUrl, token: String(created.body['registrationToken']), dir });
  return { state, dir, id: String(created.body['id']) };
}

/**
 * A runner that reconnects fast (tests) and keeps its log lines. Without `stateDir` its journal
 * lives in a temporary directory of its own, removed when the runner stops.
 */
export function fastRunner(state: ConnectorState, lines: string[] = [], stateDir?: string, extra: Partial<RunnerOptions> = {}): Runner {
  const journalDir = stateDir ?? mkdtempSync(path.join(os.tmpdir(), 'certbridge-connector-journal-'));
  const runner = startRunner(state, {
    stateDir: journalDir, heartbeatMs: 200, backoff: { baseMs: 50, maxMs: 400, random: () => 0.5 }, log: (l) => lines.push(l), env: {}, ...extra,
  });
  if (stateDir) return runner;
  return {
    ...runner,
    async stop() {
      await runner.stop();
      await fs.rm(journalDir, { recursive: true, force: true });
    },
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
