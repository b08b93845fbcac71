/**
 * The certbridge-adcs-sim executable: --init writes the SPEC sample, --config serves it, curl
 * --ntlm works against it, SIGTERM stops it; bad invocations exit non-zero with a message.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCsr, run, tempDir } from './helpers.ts';

const BIN = fileURLToPath(new URL('../bin/certbridge-adcs-sim.js', import.meta.url));
// Each case starts Node + tsx (and the --config case generates a CA): generous on a loaded CI box.
const SLOW = 180_000;
let tmp: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => tmp.cleanup());

interface SampleConfig {
  port: number;
  adminToken: string;
  users: Array<{ name: string }>;
  templates: Array<{ cn: string; issuance?: string; enroll: string[] }>;
}

describe('--init', () => {
  it('ok/writes the SPEC sample (users, templates, port 9443) and prints URL, chain and token', async () => {
    const r = await run('node', [BIN, '--init', `${tmp.dir}/init`]);
    const cfg = JSON.parse(await readFile(`${tmp.dir}/init/sim.json`, 'utf8')) as SampleConfig;
    expect({
      code: r.code,
      printed: [/URL: https:\/\/localhost:9443\/certsrv\//, /CA chain: .*ca-chain\.pem/, new RegExp(`admin token: ${cfg.adminToken}`)].every((re) => re.test(r.stdout)),
      users: cfg.users.map((u) => u.name),
      templates: cfg.templates.map((t) => `${t.cn}:${t.issuance ?? 'auto'}:${t.enroll.join('+')}`),
      port: cfg.port,
    }).toEqual({
      code: 0,
      printed: true,
      users: ['alice', 'bob', 'admin'],
      templates: ['WebServer:auto:alice', 'User:auto:bob', 'SubCA:auto:alice', 'ManagerApproval:manager:alice'],
      port: 9443,
    });
  }, SLOW);
});

describe('--config', () => {
  it('ok/serves the sample; curl --ntlm issues from WebServer; SIGTERM exits 0', async () => {
    const dir = `${tmp.dir}/serve`;
    await run('node', [BIN, '--init', dir]);
    const cfg = JSON.parse(await readFile(`${dir}/sim.json`, 'utf8')) as SampleConfig;
    await writeFile(`${dir}/sim.json`, JSON.stringify({ ...cfg, port: 0 }));
    const csr = await tmp.file('cli-csr.pem', await makeCsr('cli.corp.example.test'));
    const child = spawn('node', [BIN, '--config', `${dir}/sim.json`], { stdio: ['ignore', 'pipe', 'pipe'] });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const r = await run('curl', [
      '-sS', '--cacert', `${dir}/ca-chain.pem`, '--ntlm', '-u', 'CORP\\alice:Passw0rd!',
      '--data-urlencode', 'Mode=newreq', '--data-urlencode', `CertRequest@${csr}`,
      '--data-urlencode', 'CertAttrib=CertificateTemplate:WebServer', `${url}certfnsh.asp`,
    ]);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect([/Certificate Issued/.test(r.stdout), await exited]).toEqual([true, 0]);
  }, SLOW);

  it.each([
    ['fail/missing config file', ['--config', '/nonexistent/sim.json'], 1, /ENOENT/],
    ['fail/unknown option', ['--bogus'], 2, /Unknown option/],
    ['fail/no arguments', [], 2, /usage:/],
  ])('%s', async (_n, args, code, message) => {
    const r = await run('node', [BIN, ...args]);
    expect([r.code, message.test(r.stderr + r.stdout)]).toEqual([code, true]);
  }, SLOW);

  it('fail/invalid configuration names the field', async () => {
    const bad = await tmp.file('bad.json', JSON.stringify({ adminToken: 'short', port: 'x' }));
    const r = await run('node', [BIN, '--config', bad]);
    expect([r.code, /adminToken/.test(r.stderr) && /port/.test(r.stderr)]).toEqual([1, true]);
  }, SLOW);
});
