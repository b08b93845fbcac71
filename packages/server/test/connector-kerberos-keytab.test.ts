/**
 * A keytab connection used through the on-prem connector: the server unseals the keytab and sends
 * it with the job (inside the mutually authenticated socket, like the password); the connector's
 * client writes it into its private Kerberos cache directory and logs in to an emulator in
 * Kerberos mode, against a throwaway MIT KDC whose `alice` has no password (`-randkey`). The
 * process's KRB5_CONFIG is an empty file: the realm is known only through the connection's `kdcs`.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AdcsSim } from '@certbridge/adcs-sim';
import type { Runner } from '@certbridge/connector';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kdcAvailable, startKdc, type TestKdc } from '../../adcs-client/test/helpers/kdc.ts';
import { csrPem, startSim } from './adcs-fixtures.ts';
import { fastRunner, registeredConnector, startTestServer, type ServerHandle } from './connector-fixtures.ts';

const run = promisify(execFile);

describe('connector CA over a Kerberos keytab connection (pglite)', () => {
  let kdc: TestKdc;
  let sim: AdcsSim;
  let h: ServerHandle;
  let runner: Runner;
  let dir: string;
  const dirs: string[] = [];
  const saved = { KRB5_CONFIG: process.env['KRB5_CONFIG'], KRB5_KTNAME: process.env['KRB5_KTNAME'] };

  beforeAll(async () => {
    if (!kdcAvailable()) throw new Error('Debian packages krb5-kdc, krb5-admin-server and krb5-user are required for this test');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-connector-keytab-'));
    kdc = await startKdc({ realm: 'EAST.CORP.TEST', users: {}, serviceHost: 'localhost' });
    const keytab = path.join(dir, 'alice.keytab');
    await run('/usr/sbin/kadmin.local', ['-r', kdc.realm, '-q', 'addprinc -randkey alice'], { env: kdc.env });
    await run('/usr/sbin/kadmin.local', ['-r', kdc.realm, '-q', `ktadd -k ${keytab} alice`], { env: kdc.env });
    const emptyConfig = path.join(dir, 'empty-krb5.conf');
    await fs.writeFile(emptyConfig, '');
    process.env['KRB5_CONFIG'] = emptyConfig;
    sim = await startSim({ domain: 'EAST', auth: { basic: false, ntlm: false, negotiate: true, keytab: kdc.keytab, realm: kdc.realm } });
    h = await startTestServer('pglite', dirs);
    const connector = await registeredConnector(h, 'branch-krb', dirs);
    runner = fastRunner(connector.state);
    await runner.connected();
    const kdcAddress = /kdc = (127\.0\.0\.1:\d+)/.exec(await fs.readFile(kdc.krb5Config, 'utf8'))![1]!;
    const conn = await h.api('POST', '/api/v1/connections', {
      name: 'east-behind-connector', type: 'adcs', url: sim.url, caPem: sim.tlsCaPem, domain: kdc.realm, username: 'alice', auth: 'kerberos',
      keytab: (await fs.readFile(keytab)).toString('base64'), kdcs: [kdcAddress], timeoutMs: 15_000,
    });
    if (conn.status !== 201) throw new Error(`connection: ${conn.status} ${JSON.stringify(conn.body)}`);
    const ca = await h.api('POST', '/api/v1/cas/connector', { name: 'east-via-connector', connector: 'branch-krb', servers: [{ connection: 'east-behind-connector', priority: 1 }], jobTimeoutSeconds: 20 });
    if (ca.status !== 201) throw new Error(`CA: ${ca.status} ${JSON.stringify(ca.body)}`);
    // Creating the profile asks the connector for the templates: the first Kerberos login.
    const profile = await h.api('POST', '/api/v1/profiles', { slug: 'east-krb', ca: ca.body['id'], policy: 'permissive', template: 'WebServer' });
    if (profile.status !== 201) throw new Error(`profile: ${profile.status} ${JSON.stringify(profile.body)}`);
    const app = await h.api('GET', '/api/v1/applications/default');
    const profiles = [...(app.body['profiles'] as { slug: string }[]).map((p) => p.slug), 'east-krb'];
    if ((await h.api('PATCH', '/api/v1/applications/default', { profiles })).status !== 200) throw new Error('attach profile');
  }, 180_000);
  afterAll(async () => {
    await runner?.stop();
    await h?.close();
    await sim?.stop();
    await kdc?.stop();
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    await Promise.all([dir, ...dirs].filter(Boolean).map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  it('ok/the connector logs in with the keytab and the certificate comes back', async () => {
    const cn = 'keytab.via.connector.test';
    const res = await h.api('POST', '/api/v1/applications/default/certificates', { profile: 'east-krb', csr: csrPem(cn, [cn]) });
    const order = res.body['order'] as { status: string; caRequestId: string } | undefined;
    const certificate = res.body['certificate'] as { certificate: string } | undefined;
    expect({ status: res.status, order: order?.status, subject: certificate ? new X509Certificate(certificate.certificate).subject : undefined, requester: sim.getRequest(Number(order?.caRequestId))?.requester })
      .toEqual({ status: 201, order: 'issued', subject: `CN=${cn}`, requester: 'EAST\\alice' });
  }, 60_000);

  it('ok/the keytab is not left in the connector jobs table', async () => {
    const keytab = (await fs.readFile(path.join(dir, 'alice.keytab'))).toString('base64');
    const rows = (await sql`select * from connector_jobs`.execute(h.server.core.db)).rows;
    expect({ jobs: rows.length > 0, leaked: JSON.stringify(rows).includes(keytab.slice(20, 60)) }).toEqual({ jobs: true, leaked: false });
  });
});
