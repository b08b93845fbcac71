import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';

/**
 * `certbridge orders list` as users run it (its own node + tsx process on a throwaway
 * CERTBRIDGE_DATA_DIR): every filter `GET /api/v1/orders` has, and the SecTrail columns. One order
 * comes from a real `cert issue`; the ADCS orders are written into the database as the ADCS backend
 * records them (server, domain, template, request id, disposition), since the CLI only reads them.
 * The first listing runs the bin in its own process; the filter cases call the same `main` in this
 * process (a node + tsx start costs 10 to 25 s on a loaded machine).
 */
const ROOT = path.resolve(import.meta.dirname, '../../..');
const MAIN = 'packages/server/src/cli/main.ts';
const SLOW = 180_000;

interface Run { code: number; stdout: string; stderr: string }

function childEnv(dataDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CERTBRIDGE_DATA_DIR: dataDir, CERTBRIDGE_LOG_LEVEL: 'silent', ...extra };
  delete env['DATABASE_URL'];
  return env;
}

function spawnCli(dataDir: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: childEnv(dataDir), timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** `certbridge serve` until it has bootstrapped, then SIGTERM. */
async function bootstrapDataDir(dataDir: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve'], { cwd: ROOT, env: childEnv(dataDir, { CERTBRIDGE_HTTP_PORT: '0', CERTBRIDGE_HTTPS_PORT: '0' }), stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (/admin API token is in/.test(stdout)) child.kill('SIGTERM');
  });
  await exited;
}

/** `main` as the bin calls it, with stdout and stderr collected. */
async function cli(args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, (l) => out.push(l), (l) => err.push(l));
  return { code, stdout: out.map((l) => `${l}\n`).join(''), stderr: err.map((l) => `${l}\n`).join('') };
}

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');
/** Cells of the table: columns are two or more spaces apart; the last (disposition) may hold single spaces. */
const table = (stdout: string) => lines(stdout).map((l) => l.split(/ {2,}/));
const HEADER = ['ID', 'CREATED', 'REQUEST', 'COMMON NAME', 'DOMAIN', 'TEMPLATE', 'STATUS', 'ATTEMPTS', 'NEXT POLL', 'DISPOSITION'];

const EAST = '11111111-1111-4111-8111-111111111111';
const WEST = '22222222-2222-4222-8222-222222222222';
const NEXT_POLL = '2030-01-02T03:04:05.000Z';

describe('certbridge orders list on PGlite', () => {
  let dataDir: string;
  const ids: Record<string, string> = {};
  const saved = { dataDir: process.env['CERTBRIDGE_DATA_DIR'], databaseUrl: process.env['DATABASE_URL'], logLevel: process.env['CERTBRIDGE_LOG_LEVEL'] };
  const restore = (name: string, value: string | undefined) => (value === undefined ? delete process.env[name] : (process.env[name] = value));
  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-cli-orders-'));
    await bootstrapDataDir(dataDir);
    // The in-process `main` reads its configuration from the environment, as the bin does.
    process.env['CERTBRIDGE_DATA_DIR'] = dataDir;
    process.env['CERTBRIDGE_LOG_LEVEL'] = 'silent';
    delete process.env['DATABASE_URL'];
    const issued = await cli(['cert', 'issue', '--profile', 'default-tls', '--cn', 'internal.cli.test', '--san', 'dns:internal.cli.test']);
    if (issued.code !== 0) throw new Error(`cert issue: ${issued.stderr}`);
    const created = await cli(['ca', 'create', '--root', '--name', 'ADCS-Lab', '--subject', 'CN=ADCS Lab', '--key', 'EC-P256']);
    if (created.code !== 0) throw new Error(`ca create: ${created.stderr}`);
    const db = await PGlite.create(path.join(dataDir, 'pgdata'));
    try {
      const base = (await db.query<{ id: string; application_id: string; profile_id: string; requester_id: string }>(`select id, application_id, profile_id, requester_id from orders`)).rows[0]!;
      ids['internal'] = base.id;
      const lab = (await db.query<{ id: string }>(`select id from cas where name = 'ADCS-Lab'`)).rows[0]!.id;
      ids['lab'] = lab;
      ids['admin'] = base.requester_id;
      for (const [id, name, domain] of [[EAST, 'east-ca1', 'EAST'], [WEST, 'west-ca1', 'WEST']] as const) {
        await db.query(`insert into connections (id, name, type, url, domain, username, password_sealed, auth) values ($1, $2, 'adcs', $3, $4, 'alice', 'v1.unused', 'ntlm')`, [id, name, `https://${name}.corp.test/certsrv/`, domain]);
      }
      // [id, server, domain, template, cn, status, request id, disposition, hresult, attempts, next poll, requester, minutes ago]
      const adcs: Array<[string, string, string, string, string, string, string, string | null, string | null, number, string | null, string | null, number]> = [
        ['a0000000-0000-4000-8000-000000000001', EAST, 'EAST', 'WebServer', 'web1.east.corp.test', 'issued', '101', 'Issued', null, 1, null, base.requester_id, 30],
        ['a0000000-0000-4000-8000-000000000002', EAST, 'EAST', 'ManagerApproval', 'vpn.east.corp.test', 'pending', '102', 'Taken Under Submission', null, 6, NEXT_POLL, null, 20],
        ['a0000000-0000-4000-8000-000000000003', WEST, 'WEST', 'WebServer', 'web2.west.corp.test', 'denied', '103', 'Denied by Policy Module', '0x80094012', 1, null, null, 10],
      ];
      for (const [id, server, domain, template, cn, status, req, disposition, hresult, attempts, nextPoll, requester, ago] of adcs) {
        await db.query(
          `insert into orders (id, application_id, profile_id, ca_id, requester_id, protocol, status, subject, sans, ca_request_id, ca_server, template, disposition, hresult, attempts, next_poll_at, common_name, adcs_domain, created_at)
           values ($1, $2, $3, $4, $5, 'api', $6, $7, '[]'::jsonb, $8, $9, $10, $11, $12, $13, $14, $15, $16, now() - make_interval(mins => $17))`,
          [id, base.application_id, base.profile_id, lab, requester, status, `CN=${cn}`, req, server, template, disposition, hresult, attempts, nextPoll, cn, domain, ago],
        );
        ids[cn] = id;
      }
    } finally {
      await db.close();
    }
  }, SLOW);
  afterAll(async () => {
    restore('CERTBRIDGE_DATA_DIR', saved.dataDir);
    restore('DATABASE_URL', saved.databaseUrl);
    restore('CERTBRIDGE_LOG_LEVEL', saved.logLevel);
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('ok/no filter: a header and every order newest first, with the SecTrail columns', async () => {
    const r = await spawnCli(dataDir, ['orders', 'list']);
    const rows = table(r.stdout);
    expect({ code: r.code, header: rows[0], rows: rows.slice(1).map((c) => [c[0], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]]) }).toEqual({
      code: 0, header: HEADER,
      rows: [
        [ids['internal'], '-', 'internal.cli.test', '-', '-', 'issued', '1', '-', '-'],
        [ids['web2.west.corp.test'], '103', 'web2.west.corp.test', 'WEST', 'WebServer', 'denied', '1', '-', 'Denied by Policy Module 0x80094012'],
        [ids['vpn.east.corp.test'], '102', 'vpn.east.corp.test', 'EAST', 'ManagerApproval', 'pending', '6', NEXT_POLL, 'Taken Under Submission'],
        [ids['web1.east.corp.test'], '101', 'web1.east.corp.test', 'EAST', 'WebServer', 'issued', '1', '-', 'Issued'],
      ],
    });
  }, SLOW);

  // Options as `--opt=value`, the way scripts pass them.
  it.each([
    ['ok/--status', ['--status=pending'], ['vpn.east.corp.test']],
    ['ok/--ca by name', ['--ca=ADCS-Lab'], ['web2.west.corp.test', 'vpn.east.corp.test', 'web1.east.corp.test']],
    ['ok/--ca by name of the internal intermediate', ['--ca=Certbridge Intermediate CA'], ['internal.cli.test']],
    ['ok/--server by connection name', ['--server=east-ca1'], ['vpn.east.corp.test', 'web1.east.corp.test']],
    ['ok/--server by connection id', [`--server=${WEST}`], ['web2.west.corp.test']],
    ['ok/--domain in any case', ['--domain=west'], ['web2.west.corp.test']],
    ['ok/--template', ['--template=WebServer'], ['web2.west.corp.test', 'web1.east.corp.test']],
    ['ok/--requester by user name', ['--requester=admin'], ['internal.cli.test', 'web1.east.corp.test']],
    ['ok/--common-name contains, any case', ['--common-name=EAST.corp'], ['vpn.east.corp.test', 'web1.east.corp.test']],
    ['ok/filters combine', ['--server=east-ca1', '--template=WebServer', '--status=issued'], ['web1.east.corp.test']],
    ['ok/--limit keeps the newest', ['--limit=2'], ['internal.cli.test', 'web2.west.corp.test']],
    ['ok/a LIKE wildcard matches itself only', ['--common-name=%'], []],
  ])('%s', async (_name, args, expected) => {
    const r = await cli(['orders', 'list', ...args]);
    expect({ code: r.code, cns: table(r.stdout).slice(1).map((c) => c[3]) }).toEqual({ code: 0, cns: expected });
  }, SLOW);

  it('ok/--requester by user id', async () => {
    const r = await cli(['orders', 'list', `--requester=${ids['admin']}`]);
    expect({ code: r.code, cns: table(r.stdout).slice(1).map((c) => c[3]) }).toEqual({ code: 0, cns: ['internal.cli.test', 'web1.east.corp.test'] });
  }, SLOW);

  // A name that does not exist is a typo to report, not an empty list.
  it.each([
    ['fail/unknown CA', ['--ca=nope'], 'certbridge: no CA named nope'],
    ['fail/unknown server', ['--server=nope'], 'certbridge: no ADCS connection named nope'],
    ['fail/unknown requester', ['--requester=nobody'], 'certbridge: no user named nobody'],
    ['fail/bad status', ['--status=done'], 'certbridge: --status must be one of pending, issued, denied, failed, cancelled'],
    ['fail/bad limit', ['--limit=0'], 'certbridge: --limit must be a whole number from 1 to 500'],
  ])('%s exits 1 with one line on stderr', async (_name, args, message) => {
    const r = await cli(['orders', 'list', ...args]);
    expect({ code: r.code, stdout: r.stdout, stderr: lines(r.stderr) }).toEqual({ code: 1, stdout: '', stderr: [message] });
  }, SLOW);
});
