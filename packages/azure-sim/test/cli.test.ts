/** The certbridge-azure-sim CLI in real processes: --init writes a sample, --config serves it, bad configs fail in one line. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { form, https } from './helpers.ts';

const BIN = fileURLToPath(new URL('../bin/certbridge-azure-sim.js', import.meta.url));
const dirs: string[] = [];
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `--config` and resolves with the printed lines once it announces the CA path. */
function serve(config: string): Promise<{ child: ChildProcess; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\nCA: ')) resolve({ child, lines: out.trim().split('\n') });
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}`)));
  });
}

describe('certbridge-azure-sim CLI', () => {
  it('ok/--init writes a sample; --config serves it: the sample secret gets a token, the vault answers its challenge', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'azure-sim-cli-'));
    dirs.push(dir);
    const init = await run(['--init', dir]);
    expect(init.code).toBe(0);
    const configPath = join(dir, 'azure-sim.json');
    expect(init.stdout).toContain(`wrote ${configPath}`);
    expect((await stat(configPath)).mode & 0o777).toBe(0o600);
    const config = JSON.parse(await readFile(configPath, 'utf8'));
    const [certbridge] = config.tenants[0].apps;
    expect(init.stdout).not.toContain(certbridge.secrets[0].secret);
    // Random ports: the test must not collide with a developer's running instance.
    Object.assign(config, { port: 0, graphPort: 0 });
    config.tenants[0].vaults[0].port = 0;
    await writeFile(configPath, JSON.stringify(config));
    const { child, lines } = await serve(configPath);
    const authority = lines.find((l) => l.startsWith('authority (Entra): '))?.split(': ')[1] ?? '';
    const vault = lines.find((l) => l.startsWith('Key Vault certbridge-kv: '))?.split(': ')[1] ?? '';
    const ca = await readFile(join(dir, 'ca.pem'), 'utf8');
    const f = form({ grant_type: 'client_credentials', client_id: certbridge.appId, client_secret: certbridge.secrets[0].secret, scope: 'https://vault.azure.net/.default' });
    const tok = await https(`${authority}/${config.tenants[0].id}/oauth2/v2.0/token`, ca, { method: 'POST', ...f });
    expect(tok.status).toBe(200);
    const challenge = await https(`${vault}/certificates?api-version=7.5`, ca);
    expect([challenge.status, challenge.headers['www-authenticate']]).toEqual([401, `Bearer authorization="${authority}/${config.tenants[0].id}", resource="https://vault.azure.net"`]);
    const listed = await https(`${vault}/certificates?api-version=7.5`, ca, { headers: { authorization: `Bearer ${tok.json().access_token as string}` } });
    expect([listed.status, listed.json().value]).toEqual([200, []]);
    const exited = new Promise((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('fail/an invalid config exits 1 naming the bad fields on one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'azure-sim-cli-'));
    dirs.push(dir);
    const path = join(dir, 'bad.json');
    await writeFile(path, JSON.stringify({ tenants: [{ id: 'not-a-guid', vaults: [{ name: 'x' }] }] }));
    const r = await run(['--config', path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('certbridge-azure-sim: invalid config: tenants.0.id: must be a GUID; tenants.0.vaults.0.name: vault names are 3-24 letters, digits and dashes\n');
  });

  it('fail/no arguments prints the usage and exits 2', async () => {
    const r = await run([]);
    expect([r.code, r.stdout]).toEqual([2, 'usage: certbridge-azure-sim --config <azure-sim.json>\n       certbridge-azure-sim --init <dir>\n']);
  });
});
