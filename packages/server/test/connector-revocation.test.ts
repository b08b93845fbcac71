/**
 * Revocation at ADCS through a connector (issue 7 item 6): revoking a certificate of a connector
 * CA queues a `revoke` job; the connector runs `certutil -config <host\CA> -revoke <serial>
 * <reason>`. Windows is not available here, so the connector runs a stand-in shell script that
 * records its arguments and exits with the status the test chooses.
 */
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AdcsSim } from '@certbridge/adcs-sim';
import type { Runner } from '@certbridge/connector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REVOCATION_RETRY_MS } from '../src/connectors/connector-revocations.ts';
import { csrPem, SIM_PASSWORD, startSim } from './adcs-fixtures.ts';
import { fastRunner, registeredConnector, startTestServer, waitFor, type ServerHandle } from './connector-fixtures.ts';
import { ENGINES } from './helpers.ts';

describe.each(ENGINES)('revocation at ADCS through a connector on %s', (engine) => {
  let sim: AdcsSim;
  let h: ServerHandle;
  let runner: Runner;
  const dirs: string[] = [];
  const tools = fs.mkdtempSync(path.join(os.tmpdir(), 'certutil-standin-'));
  const calls = path.join(tools, 'calls.txt');
  const failFlag = path.join(tools, 'fail');
  const standIn = path.join(tools, 'certutil');
  // One line per run: the arguments joined by '|'. Exits 3 while the fail flag exists.
  fs.writeFileSync(standIn, `#!/bin/sh\nIFS='|'; printf '%s\\n' "$*" >> '${calls}'\nif [ -e '${failFlag}' ]; then echo 'CertUtil: -revoke command FAILED: 0x800706ba (WIN32: 1722 RPC_S_SERVER_UNAVAILABLE)'; exit 3; fi\necho 'CertUtil: -revoke command completed successfully.'\n`, { mode: 0o755 });

  const issue = async (cn: string) => {
    const res = await h.api('POST', '/api/v1/applications/default/certificates', { profile: 'revoke-via-connector', csr: csrPem(cn, [cn]) });
    expect(res.status).toBe(201);
    const c = res.body['certificate'] as { id: string; certificate: string };
    return { id: c.id, serial: new X509Certificate(c.certificate).serialNumber.toLowerCase() };
  };
  const cert = async (id: string) => (await h.api('GET', `/api/v1/certificates/${id}`)).body as { status: string; revocationPendingAtCa: boolean };
  const audits = async (id: string) => ((await h.api('GET', `/api/v1/audit?action=certificate.revoke-at-ca&resourceId=${id}`)).body['items'] as { outcome: string; details: Record<string, unknown> }[])
    .map((a) => ({ outcome: a.outcome, error: a.details['error'] ?? null, config: a.details['config'], reason: a.details['reason'] }));
  const runs = () => (fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n') : []);
  let config: string;
  let connector: Awaited<ReturnType<typeof registeredConnector>>;

  beforeAll(async () => {
    sim = await startSim();
    h = await startTestServer(engine, dirs);
    connector = await registeredConnector(h, 'branch-revoke', dirs);
    runner = fastRunner(connector.state, [], connector.dir, { env: { CERTBRIDGE_CONNECTOR_CERTUTIL: standIn, CERTBRIDGE_CONNECTOR_CERTUTIL_ANY_PLATFORM: '1' } });
    await runner.connected();
    expect((await h.api('POST', '/api/v1/connections', { name: 'sim-revoke', type: 'adcs', url: sim.url, domain: 'CORP', username: 'alice', password: SIM_PASSWORD, auth: 'basic', caPem: sim.tlsCaPem, timeoutMs: 5000 })).status).toBe(201);
    const ca = await h.api('POST', '/api/v1/cas/connector', { name: 'corp-revoke', connector: 'branch-revoke', servers: [{ connection: 'sim-revoke', priority: 1 }], jobTimeoutSeconds: 10 });
    expect(ca.status).toBe(201);
    expect((await h.api('POST', '/api/v1/profiles', { slug: 'revoke-via-connector', ca: String(ca.body['id']), policy: 'permissive', template: 'WebServer' })).status).toBe(201);
    const app = await h.api('GET', '/api/v1/applications/default');
    const profiles = [...(app.body['profiles'] as { slug: string }[]).map((p) => p.slug), 'revoke-via-connector'];
    expect((await h.api('PATCH', '/api/v1/applications/default', { profiles })).status).toBe(200);
    // The config string: the ADCS server's host and the issuing CA's common name.
    const caCn = new X509Certificate(sim.issuingCaPem).subject.split('\n').find((l) => l.startsWith('CN='))!.slice(3);
    config = `${new URL(sim.url).hostname}\\${caCn}`;
  });
  afterAll(async () => {
    await runner?.stop();
    await h?.close();
    await sim?.stop();
    for (const d of [...dirs, tools]) fs.rmSync(d, { recursive: true, force: true });
  });

  it('ok/revoke-runs-certutil-on-the-connector-and-clears-the-pending-mark', async () => {
    const c = await issue('revoke.ok.test');
    const revoked = await h.api('POST', `/api/v1/certificates/${c.id}/revoke`, { reason: 'keyCompromise' });
    expect({ status: revoked.status, pending: revoked.body['revocationPendingAtCa'] }).toEqual({ status: 200, pending: true });
    await waitFor('pending mark cleared', async () => !(await cert(c.id)).revocationPendingAtCa);
    expect({ runs: runs(), cert: await cert(c.id), audits: await audits(c.id) }).toEqual({
      runs: [`-config|${config}|-revoke|${c.serial}|1`],
      cert: expect.objectContaining({ status: 'revoked', revocationPendingAtCa: false }),
      audits: [{ outcome: 'success', error: null, config, reason: 1 }],
    });
  });

  it('fail/certutil-exit-keeps-the-mark-records-the-error-and-is-retried-later', async () => {
    fs.rmSync(calls, { force: true });
    fs.writeFileSync(failFlag, '');
    const c = await issue('revoke.fail.test');
    expect((await h.api('POST', `/api/v1/certificates/${c.id}/revoke`, { reason: 'superseded' })).status).toBe(200);
    await waitFor('failure audited', async () => (await audits(c.id)).length === 1);
    const error = `certutil -config "${config}" -revoke ${c.serial} 4 exited with status 3: CertUtil: -revoke command FAILED: 0x800706ba (WIN32: 1722 RPC_S_SERVER_UNAVAILABLE)`;
    const revocations = h.server.core.connectors.revocations;
    // Not yet due: a failure is asked again only after REVOCATION_RETRY_MS.
    const early = await revocations.retryDue(new Date());
    expect({ pending: (await cert(c.id)).revocationPendingAtCa, audits: await audits(c.id), early }).toEqual({
      pending: true, audits: [{ outcome: 'failure', error, config, reason: 4 }], early: { cleared: 0, retried: 0 },
    });
    fs.rmSync(failFlag);
    const due = await revocations.retryDue(new Date(Date.now() + REVOCATION_RETRY_MS + 1000));
    await waitFor('pending mark cleared after the retry', async () => !(await cert(c.id)).revocationPendingAtCa);
    expect({ due, runs: runs(), audits: (await audits(c.id)).map((a) => a.outcome) }).toEqual({
      due: { cleared: 0, retried: 1 }, runs: [`-config|${config}|-revoke|${c.serial}|4`, `-config|${config}|-revoke|${c.serial}|4`], audits: ['success', 'failure'],
    });
  });

  it('fail/connector-not-on-windows-answers-that-it-needs-a-windows-connector', async () => {
    // The same connector without the test overrides: on Linux it may not run certutil.
    await runner.stop();
    runner = fastRunner(connector.state, [], connector.dir, { env: {} });
    await runner.connected();
    fs.rmSync(calls, { force: true });
    const c = await issue('revoke.linux.test');
    expect((await h.api('POST', `/api/v1/certificates/${c.id}/revoke`, { reason: 'cessationOfOperation' })).status).toBe(200);
    await waitFor('failure audited', async () => (await audits(c.id)).length === 1);
    expect({ pending: (await cert(c.id)).revocationPendingAtCa, audits: await audits(c.id), runs: runs() }).toEqual({
      pending: true, audits: [{ outcome: 'failure', error: 'revocation at ADCS needs a connector running on Windows (certutil)', config, reason: 5 }], runs: [],
    });
  });
});
