/**
 * Kerberos with a keytab per ADCS connection, through the server API, against two throwaway MIT
 * realms (EAST.CORP.TEST and WEST.CORP.TEST, each its own krb5kdc) and two emulators in Kerberos
 * mode. The keytabs are made here with kadmin.local for principals created with `-randkey`: no
 * password exists for them, so only the uploaded keytab can get a ticket. The process's own
 * KRB5_CONFIG is an empty file, so each connection finds its realm only through its `kdcs`.
 */
import { execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AdcsSim } from '@certbridge/adcs-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kdcAvailable, startKdc, type TestKdc } from '../../adcs-client/test/helpers/kdc.ts';
import { addAdcsCa, addAdcsProfile, createAdcsEnv, csrPem, issue, startSim, type AdcsEnv } from './adcs-fixtures.ts';
import { ENGINES } from './helpers.ts';

const run = promisify(execFile);

/** `ktutil` reads its commands from stdin: merge keytabs into one file. */
function ktutilMerge(inputs: string[], output: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/ktutil', [], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => (code === 0 && !stderr.trim() ? resolve() : reject(new Error(`ktutil: ${code} ${stderr}`))));
    // EPIPE if ktutil exits early: its exit code and stderr report that, the write error must not crash the run.
    child.stdin.on('error', () => undefined);
    child.stdin.end(`${inputs.map((f) => `rkt ${f}`).join('\n')}\nwkt ${output}\nquit\n`);
  });
}

interface Realm { kdc: TestKdc; kdcAddress: string; keytab: string; sim: AdcsSim }

describe.each(ENGINES)('ADCS connections with a Kerberos keytab, two realms in one process (%s)', (engine) => {
  const realms: Record<'east' | 'west', Realm> = {} as Record<'east' | 'west', Realm>;
  let env: AdcsEnv;
  let dir: string;
  const saved = { KRB5_CONFIG: process.env['KRB5_CONFIG'], KRB5_KTNAME: process.env['KRB5_KTNAME'] };
  const b64 = async (file: string) => (await fs.readFile(file)).toString('base64');

  beforeAll(async () => {
    if (!kdcAvailable()) throw new Error('Debian packages krb5-kdc, krb5-admin-server and krb5-user are required for this test');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-keytab-test-'));
    const emptyConfig = path.join(dir, 'empty-krb5.conf');
    await fs.writeFile(emptyConfig, '');
    const kdcs = { east: await startKdc({ realm: 'EAST.CORP.TEST', users: {}, serviceHost: 'localhost' }), west: await startKdc({ realm: 'WEST.CORP.TEST', users: {}, serviceHost: 'localhost' }) };
    // The emulators share one process-wide acceptor keytab (KRB5_KTNAME): both realms' HTTP/localhost keys.
    const httpKeytab = path.join(dir, 'http-both.keytab');
    await ktutilMerge([kdcs.east.keytab, kdcs.west.keytab], httpKeytab);
    process.env['KRB5_CONFIG'] = emptyConfig;
    for (const [name, kdc] of Object.entries(kdcs) as Array<['east' | 'west', TestKdc]>) {
      const kadmin = (q: string) => run('/usr/sbin/kadmin.local', ['-r', kdc.realm, '-q', q], { env: kdc.env });
      const keytab = path.join(dir, `alice-${name}.keytab`);
      await kadmin('addprinc -randkey alice');
      await kadmin(`ktadd -k ${keytab} alice`);
      const kdcAddress = /kdc = (127\.0\.0\.1:\d+)/.exec(await fs.readFile(kdc.krb5Config, 'utf8'))![1]!;
      const sim = await startSim({ domain: name.toUpperCase(), auth: { basic: false, ntlm: false, negotiate: true, keytab: httpKeytab, realm: kdc.realm } });
      realms[name] = { kdc, kdcAddress, keytab, sim };
    }
    env = await createAdcsEnv(engine);
  }, 120_000);
  afterAll(async () => {
    await env?.close();
    await Promise.all(Object.values(realms).map(async (r) => { await r.sim.stop(); await r.kdc.stop(); }));
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const body = async (name: string, realm: 'east' | 'west', extra: Record<string, unknown> = {}) => ({
    name, type: 'adcs', url: realms[realm].sim.url, caPem: realms[realm].sim.tlsCaPem, domain: realms[realm].kdc.realm, username: 'alice', auth: 'kerberos',
    keytab: await b64(realms[realm].keytab), kdcs: [realms[realm].kdcAddress], timeoutMs: 15_000, ...extra,
  });

  it('ok/a keytab connection per realm: sealed, shown only as set with its principal, tested, and both issue concurrently', async () => {
    const created: Record<string, { status: number; json: Record<string, unknown> }> = {};
    for (const realm of ['east', 'west'] as const) {
      const res = await env.api('POST', '/api/v1/connections', await body(`krb-${realm}`, realm));
      created[realm] = { status: res.statusCode, json: res.json() };
    }
    const east = created['east']!.json;
    expect({ status: created['east']!.status, passwordSet: east['passwordSet'], keytabSet: east['keytabSet'], keytabPrincipal: east['keytabPrincipal'], kdcs: east['kdcs'], keys: 'keytab' in east })
      .toEqual({ status: 201, passwordSet: false, keytabSet: true, keytabPrincipal: 'alice@EAST.CORP.TEST', kdcs: [realms.east.kdcAddress], keys: false });
    expect(created['west']!.status).toBe(201);

    // At rest the keytab is sealed; no stretch of it appears in the row or in any API answer.
    const keytabB64 = await b64(realms.east.keytab);
    const row = await env.core.db.selectFrom('connections').select(['keytab_sealed', 'password_sealed']).where('name', '=', 'krb-east').executeTakeFirstOrThrow();
    const listed = JSON.stringify((await env.api('GET', '/api/v1/connections?type=adcs')).json()) + JSON.stringify((await env.api('GET', '/api/v1/connections/krb-east')).json());
    const stretch = keytabB64.slice(40, 80);
    expect({ sealed: row.keytab_sealed?.startsWith('v1.'), inRow: row.keytab_sealed?.includes(stretch), inApi: listed.includes(stretch), password: row.password_sealed })
      .toEqual({ sealed: true, inRow: false, inApi: false, password: null });

    const probes = await Promise.all((['east', 'west'] as const).map(async (realm) => (await env.api('POST', `/api/v1/connections/krb-${realm}/test`)).json()));
    expect(probes.map((p) => ({ ok: p.ok, auth: p.auth }))).toEqual([{ ok: true, auth: { ok: true, kind: 'kerberos' } }, { ok: true, auth: { ok: true, kind: 'kerberos' } }]);

    for (const realm of ['east', 'west'] as const) {
      const ca = await addAdcsCa(env, `krb-ca-${realm}`, [(created[realm]!.json['id'] as string)]);
      await addAdcsProfile(env, `krb-web-${realm}`, ca, 'WebServer');
    }
    const results = await Promise.all((['east', 'west', 'east', 'west'] as const).map(async (realm, i) => {
      const cn = `k${i}.${realm}.corp.example.test`;
      const res = await issue(env, { profile: `krb-web-${realm}`, csr: csrPem(cn, [cn]) });
      const { order, certificate } = res.json();
      return { status: res.statusCode, subject: certificate ? new X509Certificate(certificate.certificate).subject : undefined, requester: realms[realm].sim.getRequest(Number(order?.caRequestId))?.requester };
    }));
    expect(results).toEqual([
      { status: 201, subject: 'CN=k0.east.corp.example.test', requester: 'EAST\\alice' },
      { status: 201, subject: 'CN=k1.west.corp.example.test', requester: 'WEST\\alice' },
      { status: 201, subject: 'CN=k2.east.corp.example.test', requester: 'EAST\\alice' },
      { status: 201, subject: 'CN=k3.west.corp.example.test', requester: 'WEST\\alice' },
    ]);
  }, 120_000);

  it('fail/without its kdcs the connection finds no KDC (the host config knows neither realm)', async () => {
    const res = await env.api('POST', '/api/v1/connections', await body('krb-west-no-kdcs', 'west', { kdcs: null }));
    const probe = (await env.api('POST', `/api/v1/connections/${res.json().id}/test`)).json();
    expect({ status: res.statusCode, ok: probe.ok, auth: probe.auth.ok, code: probe.error?.code, message: probe.error?.message })
      .toEqual({ status: 201, ok: false, auth: false, code: 'ADCS_UNAVAILABLE', message: 'no Kerberos KDC reachable for alice@WEST.CORP.TEST: kinit: Cannot find KDC for realm "WEST.CORP.TEST" while getting initial credentials' });
  }, 60_000);

  it.each([
    ['fail/a keytab for another realm', { domain: 'WEST.CORP.TEST', kdcs: null }, 'keytab', 'the keytab holds alice@EAST.CORP.TEST, not alice@WEST.CORP.TEST (the connection\'s username at its domain)'],
    ['fail/a keytab with ntlm', { auth: 'ntlm', kdcs: null }, 'keytab', 'a keytab is only used by kerberos and negotiate connections, not ntlm'],
    ['fail/text that is not base64', { keytab: 'not base64!' }, 'keytab', 'keytab must be the base64 of a keytab file'],
    ['fail/base64 of something else', { keytab: Buffer.from('-----BEGIN CERTIFICATE-----').toString('base64') }, 'keytab', 'keytab: not a keytab (it must start with 0x05 0x02)'],
    ['fail/neither password nor keytab', { keytab: undefined }, 'password', 'a password is required (or, for kerberos and negotiate, a keytab)'],
  ])('%s is refused with 400 naming the field', async (_name, extra, field, message) => {
    const res = await env.api('POST', '/api/v1/connections', await body('krb-bad', 'east', extra));
    expect({ status: res.statusCode, code: res.json().error.code, field: res.json().error.details.field, message: res.json().error.message })
      .toEqual({ status: 400, code: 'VALIDATION_FAILED', field, message });
  });

  it.each([
    ['fail/removing the only secret', { keytab: null }, 'password', 'a password is required (or, for kerberos and negotiate, a keytab)'],
    ['fail/a user name the kept keytab does not hold', { username: 'bob' }, 'keytab', 'the stored keytab holds alice@EAST.CORP.TEST, not bob@EAST.CORP.TEST: upload a keytab for bob@EAST.CORP.TEST or remove it (keytab: null)'],
    ['fail/a KDC address with a newline', { kdcs: ['127.0.0.1\n[libdefaults]'] }, undefined, 'the request body is invalid'],
  ])('%s: PATCH is refused with 400', async (_name, patch, field, message) => {
    const res = await env.api('PATCH', '/api/v1/connections/krb-east', patch);
    expect({ status: res.statusCode, code: res.json().error.code, field: res.json().error.details.field, message: res.json().error.message })
      .toEqual({ status: 400, code: 'VALIDATION_FAILED', field, message });
  });

  it('ok/PATCH with a password and keytab null turns the connection into a password one', async () => {
    const res = await env.api('PATCH', '/api/v1/connections/krb-west', { password: 'unused-Passw0rd', keytab: null });
    expect({ status: res.statusCode, passwordSet: res.json().passwordSet, keytabSet: res.json().keytabSet, keytabPrincipal: res.json().keytabPrincipal })
      .toEqual({ status: 200, passwordSet: true, keytabSet: false, keytabPrincipal: null });
  });
});
