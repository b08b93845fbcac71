/**
 * `certbridge connectors list|create|token|revoke` (issue 7) in process, on the storage of a
 * stopped test server; the tokens it prints are then used by a real `register` against the
 * restarted server.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { register } from '@certbridge/connector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { startTestServer, type ServerHandle } from './connector-fixtures.ts';

/** Runs the CLI with `env` in place of the CERTBRIDGE_* environment; returns exit code and lines. */
async function cli(env: Record<string, string>, args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const saved = { ...process.env };
  for (const k of Object.keys(process.env)) if (k.startsWith('CERTBRIDGE_') || k === 'DATABASE_URL') delete process.env[k];
  Object.assign(process.env, env);
  const out: string[] = [];
  const err: string[] = [];
  try {
    return { code: await main(args, (l) => out.push(l), (l) => err.push(l)), out, err };
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}
const tokenIn = (lines: string[]) => /: (cbc1\.\S+)$/.exec(lines.find((l) => l.startsWith('registration token')) ?? '')?.[1];

describe('certbridge connectors (CLI)', () => {
  let h: ServerHandle;
  const dirs: string[] = [];
  const stateDir = async () => {
    const d = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-connector-cli-'));
    dirs.push(d);
    return d;
  };

  beforeAll(async () => {
    h = await startTestServer('pglite', dirs);
  });
  afterAll(async () => {
    await h?.close();
    await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  it('ok/create-token-list-revoke-and-the-printed-tokens-register', async () => {
    const first = await h.offline(async (env) => ({
      create: await cli(env, ['connectors', 'create', '--name', 'cli-branch', '--site', 'Lab']),
      missing: await cli(env, ['connectors', 'create']),
      token: await cli(env, ['connectors', 'token', '--name', 'cli-branch']),
    }));
    // The second token replaced the first: only it registers.
    const stale = await register({ server: h.server.httpsUrl, token: tokenIn(first.create.out)!, dir: await stateDir(), env: {} }).then(() => 'registered', (e: Error) => e.message);
    const state = await register({ server: h.server.httpsUrl, token: tokenIn(first.token.out)!, dir: await stateDir(), env: {} });
    const after = await h.offline(async (env) => ({
      revoke: await cli(env, ['connectors', 'revoke', '--name', 'cli-branch']),
      list: await cli(env, ['connectors', 'list']),
    }));
    expect({
      create: [first.create.code, first.create.out.length], missing: [first.missing.code, first.missing.err], token: first.token.code,
      stale: stale.includes('HTTP 401'), registered: state.name, revoke: [after.revoke.code, after.revoke.out[0]?.endsWith('cli-branch  revoked')],
      list: after.list.out.map((l) => l.replace(/^[0-9a-f-]{36} {2}/, '').replace(/cert-until=\S+/, 'cert-until=…')),
    }).toEqual({
      create: [0, 2], missing: [1, ['certbridge: --name is required']], token: 0, stale: true, registered: 'cli-branch', revoke: [0, true],
      list: ['cli-branch  revoked offline  site=Lab version=0.1.0 cert-until=… done=0 failed=0'],
    });
  }, 120_000);
});
