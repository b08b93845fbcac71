import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { parseCertificate } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The `certbridge` CLI as users run it: `node --import tsx packages/server/src/cli/main.ts …`
 * in its own process, on the embedded PGlite under a throwaway CERTBRIDGE_DATA_DIR.
 */
const ROOT = path.resolve(import.meta.dirname, '../../..');
const MAIN = 'packages/server/src/cli/main.ts';

interface Run { code: number; stdout: string; stderr: string }

function cli(dataDir: string, args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, CERTBRIDGE_DATA_DIR: dataDir, CERTBRIDGE_LOG_LEVEL: 'silent' };
  delete env['DATABASE_URL'];
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
// Each case spawns a fresh node + tsx process: generous timeouts for loaded CI machines.
const SLOW = 180_000;
const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

/** `certbridge serve` on free ports until it says it listens, then SIGTERM; resolves with its exit code and output. */
async function serveOnce(dataDir: string): Promise<{ code: number | null; stdout: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, CERTBRIDGE_DATA_DIR: dataDir, CERTBRIDGE_LOG_LEVEL: 'silent', CERTBRIDGE_HTTP_PORT: '0', CERTBRIDGE_HTTPS_PORT: '0' };
  delete env['DATABASE_URL'];
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stopping = false;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (!stopping && /admin API token is in/.test(stdout)) stopping = child.kill('SIGTERM');
  });
  return { code: await exited, stdout };
}

describe('certbridge CLI on PGlite', () => {
  let dataDir: string;
  let served: { code: number | null; stdout: string };
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-cli-'));
    served = await serveOnce(dataDir);
  }, SLOW);
  afterAll(async () => {
    await fs.rm(dataDir, { recursive: true, force: true });
  });
  const run = (args: string[]) => cli(dataDir, args);

  it('ok/--help exits 0 and lists every command', async () => {
    const r = await run(['--help']);
    const FOUNDATION = ['serve', 'migrate', 'admin create-token', 'audit verify', 'ca list', 'ca create', 'cert issue', 'cert list', 'cert revoke'];
    const listed = lines(r.stdout).filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim().split(/ {2,}/)[0]);
    expect({ code: r.code, missing: FOUNDATION.filter((c) => !listed.includes(c)) }).toEqual({ code: 0, missing: [] });
  }, SLOW);

  it('fail/an unknown command exits 2 with one line on stderr', async () => {
    const r = await run(['frobnicate']);
    expect({ code: r.code, stderr: lines(r.stderr), stdout: r.stdout }).toEqual({ code: 2, stderr: ['certbridge: unknown command "frobnicate"; run certbridge --help'], stdout: '' });
  }, SLOW);

  it('ok/serve bootstraps on first start, prints where to log in and exits 0 on SIGTERM', () => {
    expect({ code: served.code, firstStart: /^First start: log in .*as admin with password \S+/m.test(served.stdout) }).toEqual({ code: 0, firstStart: true });
  }, SLOW);

  it('ok/migrate exits 0 and says the schema is current', async () => {
    const r = await run(['migrate']);
    expect({ code: r.code, stdout: lines(r.stdout) }).toEqual({ code: 0, stdout: ['migrations are up to date'] });
  }, SLOW);

  it('ok/ca list shows the bootstrapped root and intermediate', async () => {
    const r = await run(['ca', 'list']);
    expect({ code: r.code, names: lines(r.stdout).map((l) => /internal\s+active\s+(.+?)\s+\(/.exec(l)?.[1]).sort() }).toEqual({ code: 0, names: ['Certbridge Intermediate CA', 'Certbridge Root CA'] });
  }, SLOW);

  it('ok/ca create --root creates a CA that ca list then shows', async () => {
    const created = await run(['ca', 'create', '--root', '--name', 'CLI Root', '--subject', 'CN=CLI Root, O=Example', '--key', 'EC-P256']);
    const listed = await run(['ca', 'list']);
    expect({ code: created.code, line: /^[0-9a-f-]{36} {2}CLI Root {2}CN=CLI Root, O=Example$/.test(lines(created.stdout)[0] ?? ''), listed: lines(listed.stdout).some((l) => l.includes(' CLI Root '))})
      .toEqual({ code: 0, line: true, listed: true });
  }, SLOW);

  it('ok/cert issue --cn --san prints a certificate with that subject and SAN', async () => {
    const r = await run(['cert', 'issue', '--profile', 'default-tls', '--cn', 'x', '--san', 'dns:x.test']);
    const info = parseCertificate(r.stdout);
    expect({ code: r.code, subject: info.subjectText, sans: info.sans }).toEqual({ code: 0, subject: 'CN=x', sans: [{ type: 'dns', value: 'x.test' }] });
  }, SLOW);

  it('ok/cert list shows the issued certificate as active', async () => {
    const r = await run(['cert', 'list']);
    const row = lines(r.stdout).find((l) => l.endsWith('  CN=x'));
    ids['cert'] = row?.split(/\s+/)[0] ?? '';
    expect({ code: r.code, status: row?.split(/\s+/)[2] }).toEqual({ code: 0, status: 'active' });
  }, SLOW);

  it('fail/cert revoke with an unknown reason exits 1 with one line and stores nothing', async () => {
    const r = await run(['cert', 'revoke', ids['cert']!, '--reason', 'bored']);
    expect({ code: r.code, stderr: lines(r.stderr) }).toEqual({ code: 1, stderr: [`certbridge: --reason must be one of ${['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise'].join(', ')}`] });
  }, SLOW);

  // Still active after the refused reason: this revocation succeeds.
  it('ok/cert revoke ID --reason keyCompromise revokes it', async () => {
    const r = await run(['cert', 'revoke', ids['cert']!, '--reason', 'keyCompromise']);
    expect({ code: r.code, line: new RegExp(`^revoked ${ids['cert']} serial [0-9a-f]+ \\(keyCompromise\\)$`).test(lines(r.stdout)[0] ?? '') }).toEqual({ code: 0, line: true });
  }, SLOW);

  it('ok/admin create-token prints one new token', async () => {
    const r = await run(['admin', 'create-token', '--name', 'ci']);
    expect({ code: r.code, token: /^cbt_[A-Za-z0-9_-]{43}$/.test(r.stdout.trim()), lines: lines(r.stdout).length }).toEqual({ code: 0, token: true, lines: 1 });
  }, SLOW);

  it('ok/audit verify exits 0 with one line', async () => {
    const r = await run(['audit', 'verify']);
    expect({ code: r.code, line: lines(r.stdout).map((l) => /^audit log intact: \d+ rows, head [0-9a-f]{64}$/.test(l)) }).toEqual({ code: 0, line: [true] });
  });

  // Every error: one line on stderr, nothing on stdout, exit 1.
  it.each([
    ['fail/ca create without --subject', ['ca', 'create', '--root', '--name', 'y'], /^certbridge: --name and --subject are required$/],
    ['fail/ca create with an unknown key algorithm', ['ca', 'create', '--root', '--name', 'y', '--subject', 'CN=y', '--key', 'DSA-1024'], /^certbridge: --key must be one of EC-P256, /],
    ['fail/an unknown option', ['cert', 'list', '--bogus'], /^certbridge: Unknown option '--bogus'/],
    ['fail/cert issue with an unknown profile', ['cert', 'issue', '--profile', 'nope', '--cn', 'z'], /^certbridge: profile "nope" was not found$/],
    ['fail/cert issue with a SAN that breaks the syntax', ['cert', 'issue', '--profile', 'default-tls', '--cn', 'z', '--san', 'nonsense'], /^certbridge: /],
    ['fail/cert revoke of an unknown id', ['cert', 'revoke', '00000000-0000-4000-8000-000000000000'], /^certbridge: certificate "00000000-0000-4000-8000-000000000000" was not found$/],
  ])('%s exits 1 with one line on stderr', async (_name, args, pattern) => {
    const r = await run(args);
    expect({ code: r.code, stdout: r.stdout, stderr: lines(r.stderr).length, matches: pattern.test(r.stderr.trim()) }).toEqual({ code: 1, stdout: '', stderr: 1, matches: true });
  }, SLOW);

  it('fail/after one audit row is changed in the database, audit verify exits 1 naming that row', async () => {
    const db = await PGlite.create(path.join(dataDir, 'pgdata'));
    await db.query(`update audit_log set details = '{"forged": true}' where seq = 3`);
    await db.close();
    const r = await run(['audit', 'verify']);
    expect({ code: r.code, stdout: lines(r.stdout) }).toEqual({ code: 1, stdout: ['audit log BROKEN at row 3: row 3 was modified after it was written'] });
  }, SLOW);
});
