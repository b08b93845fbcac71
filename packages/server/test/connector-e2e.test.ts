/**
 * The on-prem connector end to end (issue 7): a real server (HTTP + HTTPS listeners), a connector
 * registered with a one-time token and running in process over wss with mutual TLS, and adcs-sim
 * that only the connector talks to (the server has no AdcsClient for the connection: its pool
 * stays empty). Registration, issuance through the connector, bad frames, status, restart, revocation.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { AdcsSim } from '@certbridge/adcs-sim';
import { loadState, register, type Runner } from '@certbridge/connector';
import { MAX_MESSAGE_BYTES } from '@certbridge/connector/protocol';
import { sql } from 'kysely';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrPem, SIM_PASSWORD, startSim } from './adcs-fixtures.ts';
import { fastRunner, registeredConnector, startTestServer, waitFor, type ServerHandle } from './connector-fixtures.ts';
import { ENGINES } from './helpers.ts';

describe.each(ENGINES)('connector end to end on %s', (engine) => {
  let sim: AdcsSim;
  let h: ServerHandle;
  let runner: Runner;
  let connector: Awaited<ReturnType<typeof registeredConnector>>;
  let caId: string;
  const dirs: string[] = [];
  const lines: string[] = [];

  const jobsHoldingPkcs12 = async () => Number((await sql<{ n: string }>`select count(*) as n from connector_jobs where result ? 'sealedPkcs12' or result ? 'pkcs12'`.execute(h.server.core.db)).rows[0]?.n);
  const issue = (cn: string) => h.api('POST', '/api/v1/applications/default/certificates', { profile: 'via-connector', csr: csrPem(cn, [cn]) });

  beforeAll(async () => {
    sim = await startSim();
    h = await startTestServer(engine, dirs);
    connector = await registeredConnector(h, 'branch-1', dirs);
    runner = fastRunner(connector.state, lines);
    await runner.connected();
    const conn = await h.api('POST', '/api/v1/connections', { name: 'sim-behind-connector', type: 'adcs', url: sim.url, domain: 'CORP', username: 'alice', password: SIM_PASSWORD, auth: 'basic', caPem: sim.tlsCaPem, timeoutMs: 5000 });
    expect(conn.status).toBe(201);
    const ca = await h.api('POST', '/api/v1/cas/connector', { name: 'corp-via-connector', connector: 'branch-1', servers: [{ connection: 'sim-behind-connector', priority: 1 }], jobTimeoutSeconds: 10 });
    expect(ca.status).toBe(201);
    caId = String(ca.body['id']);
    // The template is checked against what the connector discovers at ADCS (profile validation).
    const profile = await h.api('POST', '/api/v1/profiles', { slug: 'via-connector', ca: caId, policy: 'permissive', template: 'WebServer' });
    expect(profile.status).toBe(201);
    const app = await h.api('GET', '/api/v1/applications/default');
    const profiles = [...(app.body['profiles'] as { slug: string }[]).map((p) => p.slug), 'via-connector'];
    expect((await h.api('PATCH', '/api/v1/applications/default', { profiles })).status).toBe(200);
  });
  afterAll(async () => {
    await runner?.stop();
    await h?.close();
    await sim?.stop();
    await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  it('ok/registration-stores-state-0600-and-token-is-one-time', async () => {
    const modes = await Promise.all((await fs.readdir(connector.dir)).map(async (f) => (await fs.stat(path.join(connector.dir, f))).mode & 0o777));
    const again = await register({ server: h.server.httpsUrl, token: 'cbc1.x'.padEnd(20, 'x') + '.' + '0'.repeat(64), dir: `${connector.dir}-again` }).catch((e: Error) => e.message);
    const cert = new X509Certificate(connector.state.certificatePem);
    expect({ modes: [...new Set(modes)], files: modes.length, again, cn: cert.subject.includes(`CN=${connector.id}`) })
      .toEqual({ modes: [0o600], files: 4, again: expect.stringContaining('does not present the CA the token pins'), cn: true });
  });

  it('fail/registration-token-reuse-is-refused', async () => {
    const created = await h.api('POST', '/api/v1/connectors', { name: 'once', site: 'lab' });
    const token = String(created.body['registrationToken']);
    dirs.push(`${connector.dir}-once`, `${connector.dir}-twice`);
    await register({ server: h.server.httpsUrl, token, dir: `${connector.dir}-once` });
    const second = await register({ server: h.server.httpsUrl, token, dir: `${connector.dir}-twice` }).catch((e: Error) => e.message);
    expect(second).toContain('HTTP 401');
  });

  it('ok/job-reaches-the-connector-and-the-certificate-comes-back', async () => {
    const res = await issue('through.connector.test');
    expect(res.status).toBe(201);
    const order = res.body['order'] as { status: string; caRequestId: string };
    const certificate = res.body['certificate'] as { certificate: string };
    expect({ status: order.status, subject: new X509Certificate(certificate.certificate).subject, issuer: new X509Certificate(certificate.certificate).issuer, template: sim.getRequest(Number(order.caRequestId))?.template })
      .toEqual({ status: 'issued', subject: 'CN=through.connector.test', issuer: new X509Certificate(sim.issuingCaPem).subject, template: 'WebServer' });
    // The server never built an ADCS client of its own for the connection.
    expect(await h.server.core.adcs.runtime.pool.counters()).toEqual({ handshakes: 0, requests: 0 });
  });

  it('ok/templates-are-discovered-through-the-connector', async () => {
    const refreshed = await h.api('GET', `/api/v1/cas/${caId}/templates?refresh=true`);
    const bad = await h.api('POST', '/api/v1/profiles', { slug: 'via-connector-bad', ca: caId, policy: 'permissive', template: 'NoSuchTemplate' });
    expect({ status: refreshed.status, names: (refreshed.body['items'] as { name: string }[]).map((t) => t.name), errors: refreshed.body['errors'], bad: bad.status, offered: (bad.body['error'] as { details: { offered: string[] } }).details.offered })
      .toEqual({ status: 200, names: ['ManagerApproval', 'WebServer'], errors: [], bad: 400, offered: ['ManagerApproval', 'WebServer'] });
    // The server itself never spoke to ADCS: every template list came through the connector.
    expect(await h.server.core.adcs.runtime.pool.counters()).toEqual({ handshakes: 0, requests: 0 });
  });

  it('ok/server-side-key-generated-on-the-connector-pkcs12-sealed-until-downloaded-once', async () => {
    const body = { profile: 'via-connector', subject: { commonName: 'keygen.via.connector.test' }, sans: ['dns:keygen.via.connector.test'], keyAlgorithm: 'EC-P256' };
    const missing = await h.api('POST', '/api/v1/applications/default/certificates', body);
    const res = await h.api('POST', '/api/v1/applications/default/certificates', { ...body, pkcs12Password: 'requester secret 1' });
    const certificate = res.body['certificate'] as { id: string; certificate: string };
    const order = res.body['order'] as { id: string };
    const stored = await h.server.core.db.selectFrom('orders').select('server_key_sealed').where('id', '=', order.id).executeTakeFirstOrThrow();
    const download = (password: string) => fetch(`${h.server.httpUrl}/api/v1/certificates/${certificate.id}/download`, {
      method: 'POST', headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ password }),
    });
    const wrong = await download('not the password');
    const right = await download('requester secret 1');
    const p12 = Buffer.from(await right.arrayBuffer());
    const again = await download('requester secret 1');
    const file = path.join(connector.dir, 'downloaded.p12');
    await fs.writeFile(file, p12);
    const keyPem = execFileSync('openssl', ['pkcs12', '-in', file, '-passin', 'pass:requester secret 1', '-nocerts', '-nodes'], { encoding: 'utf8' });
    const cert = new X509Certificate(certificate.certificate);
    expect({
      missing: missing.status, status: res.status, serverKey: stored.server_key_sealed, wrong: wrong.status, right: right.status, again: again.status,
      keyMatches: cert.checkPrivateKey(createPrivateKey(keyPem.slice(keyPem.indexOf('-----BEGIN')))), jobsKeepNoPkcs12: await jobsHoldingPkcs12(),
    }).toEqual({ missing: 400, status: 201, serverKey: null, wrong: 400, right: 200, again: 404, keyMatches: true, jobsKeepNoPkcs12: 0 });
  });

  it('ok/approval-pending-at-adcs-is-polled-through-the-connector', async () => {
    expect((await h.api('POST', '/api/v1/profiles', { slug: 'via-connector-approval', ca: caId, policy: 'permissive', template: 'ManagerApproval' })).status).toBe(201);
    const app = await h.api('GET', '/api/v1/applications/default');
    expect((await h.api('PATCH', '/api/v1/applications/default', { profiles: [...(app.body['profiles'] as { slug: string }[]).map((p) => p.slug), 'via-connector-approval'] })).status).toBe(200);
    const res = await h.api('POST', '/api/v1/applications/default/certificates', { profile: 'via-connector-approval', csr: csrPem('approval.via.connector.test') });
    const order = res.body['order'] as { id: string; status: string; caRequestId: string; disposition: string };
    const before = await h.api('POST', `/api/v1/orders/${order.id}/fetch`);
    await sim.approve(Number(order.caRequestId));
    const after = await h.api('POST', `/api/v1/orders/${order.id}/fetch`);
    expect({ status: res.status, order: order.status, disposition: order.disposition, before: before.body['status'], after: after.body['status'], same: after.body['caRequestId'] === order.caRequestId })
      .toEqual({ status: 202, order: 'pending', disposition: 'Taken Under Submission', before: 'pending', after: 'issued', same: true });
  });

  it('ok/fails-over-to-the-next-adcs-server-through-the-connector', async () => {
    expect((await h.api('POST', '/api/v1/connections', { name: 'dead-behind-connector', type: 'adcs', url: 'https://127.0.0.1:1', domain: 'CORP', username: 'alice', password: SIM_PASSWORD, auth: 'basic', timeoutMs: 2000 })).status).toBe(201);
    const ca = await h.api('POST', '/api/v1/cas/connector', { name: 'corp-failover', connector: 'branch-1', servers: [{ connection: 'dead-behind-connector', priority: 1 }, { connection: 'sim-behind-connector', priority: 2 }], jobTimeoutSeconds: 10 });
    expect((await h.api('POST', '/api/v1/profiles', { slug: 'via-connector-failover', ca: ca.body['id'], policy: 'permissive', template: 'WebServer' })).status).toBe(201);
    const app = await h.api('GET', '/api/v1/applications/default');
    expect((await h.api('PATCH', '/api/v1/applications/default', { profiles: [...(app.body['profiles'] as { slug: string }[]).map((p) => p.slug), 'via-connector-failover'] })).status).toBe(200);
    const res = await h.api('POST', '/api/v1/applications/default/certificates', { profile: 'via-connector-failover', csr: csrPem('failover.via.connector.test') });
    const order = res.body['order'] as { id: string; caServer: string };
    const sim2 = (await h.server.core.db.selectFrom('connections').select('id').where('name', '=', 'sim-behind-connector').executeTakeFirstOrThrow()).id;
    const jobs = await sql<{ status: string }>`select status from connector_jobs where order_id = ${order.id} order by created_at`.execute(h.server.core.db);
    expect({ status: res.status, server: order.caServer === sim2, jobs: jobs.rows.map((j) => j.status) }).toEqual({ status: 201, server: true, jobs: ['failed', 'done'] });
  });

  it('fail/malformed-and-oversized-frames-are-rejected-without-dropping-jobs', async () => {
    const before = lines.length;
    runner.sendRaw('{not json');
    runner.sendRaw(JSON.stringify({ v: 1, type: 'hello', version: 'x'.repeat(MAX_MESSAGE_BYTES) }));
    runner.sendRaw(JSON.stringify({ v: 9, type: 'result' }));
    const res = await issue('after.bad.frames.test');
    await waitFor('three rejections', async () => lines.slice(before).filter((l) => l.startsWith('server rejected a message')).length >= 3);
    const rejected = lines.slice(before).filter((l) => l.startsWith('server rejected a message'));
    expect({ status: res.status, reasons: rejected.map((l) => /not JSON|exceeds the|does not match/.exec(l)?.[0]) })
      .toEqual({ status: 201, reasons: ['not JSON', 'exceeds the', 'does not match'] });
  });

  it('ok/status-lists-version-site-online-expiry-and-job-counts', async () => {
    const list = await h.api('GET', '/api/v1/connectors');
    const row = (list.body['items'] as Record<string, unknown>[]).find((c) => c['name'] === 'branch-1')!;
    expect({ site: row['site'], status: row['status'], online: row['online'], version: row['version'], expires: typeof row['certificateExpiresAt'], done: Number(row['jobsDone']) >= 2, failed: row['jobsFailed'] })
      // The one failed job is the dead server of the failover case.
      .toEqual({ site: 'HQ', status: 'active', online: true, version: '0.1.0', expires: 'string', done: true, failed: 1 });
  });

  it('ok/metrics-export-online-connectors-jobs-by-state-and-latency', async () => {
    const text = await (await fetch(`${h.server.httpUrl}/metrics`)).text();
    const value = (re: RegExp) => Number(re.exec(text)?.[1]);
    expect({
      online: value(/^certbridge_connectors_online (\d+)$/m),
      up: value(/^certbridge_connector_up\{connector="branch-1",site="HQ",status="active",version="0.1.0"\} (\d+)$/m),
      done: value(/^certbridge_connector_jobs\{state="done"\} (\d+)$/m) >= 4,
      submits: value(/^certbridge_connector_job_duration_seconds_count\{kind="submit",outcome="done"\} (\d+)$/m) >= 2,
      expiry: value(/^certbridge_connector_certificate_expiry_timestamp_seconds\{connector="branch-1"\} (\d+(?:\.\d+)?)$/m) > Date.now() / 1000,
    }).toEqual({ online: 1, up: 1, done: true, submits: true, expiry: true });
  });

  it('ok/connector-reconnects-after-the-server-restarts', async () => {
    const before = lines.filter((l) => l.startsWith('connected to')).length;
    await h.restart();
    await waitFor('reconnect', async () => lines.filter((l) => l.startsWith('connected to')).length > before);
    expect((await issue('after.restart.test')).status).toBe(201);
  });

  it('fail/revoked-connector-is-dropped-and-refused', async () => {
    const closedBefore = lines.filter((l) => l.startsWith('disconnected')).length;
    expect((await h.api('POST', `/api/v1/connectors/${connector.id}/revoke`)).status).toBe(200);
    await waitFor('socket dropped', async () => lines.filter((l) => l.startsWith('disconnected')).length > closedBefore);
    const state = await loadState(connector.dir);
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${h.server.httpsUrl.replace('https:', 'wss:')}/connector/v1/ws`, { ca: state.serverCaPem, cert: state.certificatePem, key: state.keyPem });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => resolve(-1));
    });
    const refused = await issue('after.revoke.test');
    const error = refused.body['error'] as { code: string; message: string };
    expect({ status, issue: refused.status, code: error.code, message: error.message })
      .toEqual({ status: 403, issue: 503, code: 'CA_UNAVAILABLE', message: 'connector branch-1 of CA corp-via-connector is revoked' });
  });
});
