import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import pg from 'pg';
import { buildServerBundle, startScriptNodeOptions } from '../../packages/server/test/server-bundle.ts';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const CLI_SOURCE = 'packages/server/src/cli/main.ts';

/**
 * How the bench runs the server: `bundle` (default) as `npm start` does, the compiled server of
 * packages/server/build.mjs with the start script's Node options, built once per bench process so
 * it matches the sources; `tsx` runs the TypeScript sources through tsx as the tests do
 * (BENCH_SERVER_RUNTIME=tsx, to compare).
 */
export const SERVER_RUNTIME = process.env['BENCH_SERVER_RUNTIME'] === 'tsx' ? 'tsx' : 'bundle';

/** Compiled files of this bench process (the bundle, preloads): its own directory, so benches run side by side never read each other's half-written files. */
const COMPILED_DIR = path.join(REPO_ROOT, 'bench', 'dist', String(process.pid));
process.once('exit', () => rmSync(COMPILED_DIR, { recursive: true, force: true }));

let serverBundle: string | undefined;
const builtServerBundle = () => (serverBundle ??= buildServerBundle(path.join(COMPILED_DIR, 'certbridge.mjs')));

/** `npm start`'s Node options; BENCH_SERVER_NODE_OPTIONS replaces them to compare. */
const serverNodeOptions = () => process.env['BENCH_SERVER_NODE_OPTIONS']?.split(/\s+/).filter(Boolean) ?? startScriptNodeOptions();

/** A preload written in TypeScript, compiled to a temporary .mjs so the bundle runs without tsx. */
async function compiledPreload(file: string): Promise<string> {
  const outfile = path.join(COMPILED_DIR, `${path.basename(file).replace(/\.[cm]?ts$/, '')}.mjs`);
  await build({
    entryPoints: [file], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning',
    plugins: [{ name: 'external-packages', setup: (b) => b.onResolve({ filter: /^[^./]/ }, (args) => ({ path: args.path, external: true })) }],
  });
  return outfile;
}

export interface ServerProcess {
  httpUrl: string;
  /** The TLS listener (EST lives only there). */
  httpsUrl: string;
  token: string;
  pid: number;
  /** SIGTERM, wait for the exit (a CPU profile is written then), drop the database, remove the data dir. */
  stop(): Promise<void>;
}

/** A fresh PostgreSQL database next to `baseUrl`; `drop` removes it (with force). */
export async function freshPostgres(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `certbridge_bench_${randomBytes(5).toString('hex')}`;
  const query = async (text: string) => {
    const c = new pg.Client({ connectionString: baseUrl });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  };
  await query(`create database ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => query(`drop database if exists ${name} with (force)`) };
}

/**
 * Starts `certbridge serve` as its own process (as `npm start` does), on free ports, with a
 * throwaway data directory, and waits for its "listening" line.
 */
export async function startServerProcess(opts: { databaseUrl?: string; cpuProfileDir?: string; logLevel?: string; preload?: string[]; env?: Record<string, string> }): Promise<ServerProcess> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-bench-'));
  const token = `cbt_bench_${randomBytes(16).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env, CERTBRIDGE_DATA_DIR: dataDir, CERTBRIDGE_HTTP_PORT: '0', CERTBRIDGE_HTTPS_PORT: '0',
    CERTBRIDGE_BOOTSTRAP_TOKEN: token, CERTBRIDGE_LOG_LEVEL: opts.logLevel ?? 'warn', ...opts.env,
  };
  delete env['DATABASE_URL'];
  if (opts.databaseUrl) env['DATABASE_URL'] = opts.databaseUrl;
  const profile = opts.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfileDir}`] : [];
  const nodeArgs = SERVER_RUNTIME === 'tsx'
    ? [...profile, '--import', 'tsx', ...(opts.preload ?? []).flatMap((file) => ['--import', file]), CLI_SOURCE, 'serve']
    : [...serverNodeOptions(), ...profile, ...(await Promise.all((opts.preload ?? []).map(compiledPreload))).flatMap((file) => ['--import', file]), builtServerBundle(), 'serve'];
  const child: ChildProcess = spawn(process.execPath, nodeArgs, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const [httpUrl, httpsUrl] = await new Promise<[string, string]>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+) and (https:\/\/[^\s(]+)/.exec(out);
      if (m) resolve([m[1]!, m[2]!]);
    });
    void exited.then((code) => reject(new Error(`the server exited (${code}) before listening: ${stderr.trim().split('\n').at(-1)}`)));
  });
  return {
    httpUrl,
    httpsUrl,
    token,
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
