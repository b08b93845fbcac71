/**
 * kill -9 of the connector process between receiving a job and answering it (issue 7): the
 * connector runs as a real `certbridge-connector run` process; adcs-sim holds its requests
 * (latency fault) so the kill lands while ADCS is being asked. After a restart the server
 * delivers the job again, the connector's journal shows it was interrupted, and the order is
 * issued once, with a warning that ADCS may hold an earlier request: nothing is submitted twice
 * without a record of it. (The sim drops a request whose client vanished during the latency, so
 * ADCS ends up with exactly one request here.) And the server stopped while the connector is
 * inside the ADCS round trip: the job is left `sent`, delivered again on the next connection and
 * answered from the connector's journal, so ADCS sees one request.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AdcsSim } from '@certbridge/adcs-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrPem, SIM_PASSWORD, startSim } from './adcs-fixtures.ts';
import { registeredConnector, startTestServer, waitFor, type ServerHandle } from './connector-fixtures.ts';

const BIN = fileURLToPath(new URL('../../connector/bin/certbridge-connector.js', import.meta.url));

describe('connector (kill -9) or server stopped mid-job', () => {
  let sim: AdcsSim;
  let h: ServerHandle;
  let dir: string;
  let child: ChildProcess | undefined;
  const dirs: string[] = [];
  const out: string[] = [];

  /** `certbridge-connector run` as its own process, without any proxy from the test's environment. */
  const startConnector = async (): Promise<ChildProcess> => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(https?|no)_proxy$/i.test(k)));
    const p = spawn(process.execPath, [BIN, 'run', '--dir', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout?.setEncoding('utf8').on('data', (d: string) => out.push(...d.split('\n').filter(Boolean)));
    p.stderr?.setEncoding('utf8').on('data', (d: string) => out.push(...d.split('\n').filter(Boolean)));
    const connectedBefore = out.filter((l) => l.includes('connected to')).length;
    await waitFor('connector process connected', async () => out.filter((l) => l.includes('connected to')).length > connectedBefore, 30_000);
    return p;
  };
  const requestsFor = (cn: string) => sim.listRequests().filter((r) => Buffer.from(r.request, 'base64').includes(cn));

  beforeAll(async () => {
    sim = await startSim();
    h = await startTestServer('pglite', dirs);
    ({ dir } = await registeredConnector(h, 'crash-branch', dirs));
    expect((await h.api('POST', '/api/v1/connections', { name: 'sim-crash', type: 'adcs', url: sim.url, domain: 'CORP', username: 'alice', password: SIM_PASSWORD, auth: 'basic', caPem: sim.tlsCaPem, timeoutMs: 10_000 })).status).toBe(201);
    const ca = await h.api('POST', '/api/v1/cas/connector', { name: 'ca-crash', connector: 'crash-branch', servers: [{ connection: 'sim-crash', priority: 1 }], jobTimeoutSeconds: 1 });
    child = await startConnector();
    expect((await h.api('POST', '/api/v1/profiles', { slug: 'crash', ca: ca.body['id'], policy: 'permissive', template: 'WebServer' })).status).toBe(201);
    const app = await h.api('GET', '/api/v1/applications/default');
    expect((await h.api('PATCH', '/api/v1/applications/default', { profiles: [...(app.body['profiles'] as { slug: string }[]).map((p) => p.slug), 'crash'] })).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    child?.kill('SIGKILL');
    await h?.close();
    await sim?.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('ok/job-completes-after-restart-once-at-adcs-and-the-interruption-is-on-record', async () => {
    await sim.setFaults({ latencyMs: 3000 });
    const res = await h.api('POST', '/api/v1/applications/default/certificates', { profile: 'crash', csr: csrPem('killed.mid.job.test', ['killed.mid.job.test']) });
    const order = res.body['order'] as { id: string; status: string; caRequestId: string };
    const jobId = order.caRequestId.replace('connector-job:', '');
    const journalFile = path.join(dir, 'journal', `${jobId}.json`);
    await waitFor('job received and journaled', async () => fs.existsSync(journalFile));
    child!.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
    // Past the latency: whatever ADCS was going to do with the killed connection is done.
    await new Promise((resolve) => setTimeout(resolve, 3500));
    const atAdcsWhileDown = requestsFor('killed.mid.job.test').length;
    await sim.clearFaults();
    child = await startConnector();
    const done = await waitFor('order issued', async () => {
      const o = await h.api('GET', `/api/v1/orders/${order.id}`);
      return o.body['status'] === 'issued' ? o.body : undefined;
    }, 90_000);
    const job = await h.server.core.connectors.jobs.get(jobId);
    const record = JSON.parse(fs.readFileSync(journalFile, 'utf8')) as { answer?: { ok: boolean } };
    expect({
      first: { status: res.status, order: order.status }, atAdcsWhileDown, after: done['status'], warning: done['warning'],
      atAdcs: requestsFor('killed.mid.job.test').map((r) => r.disposition), deliveries: job?.deliveries, journal: record.answer?.ok,
      rerunLogged: out.some((l) => l.includes(`job ${jobId} had been interrupted mid-way and was run again`)),
    }).toEqual({
      first: { status: 202, order: 'pending' }, atAdcsWhileDown: 0, after: 'issued', warning: expect.stringContaining('ADCS may hold an earlier request'),
      atAdcs: ['issued'], deliveries: 2, journal: true, rerunLogged: true,
    });
  }, 120_000);

  it('ok/server-stopped-mid-job-the-connector-answers-the-redelivered-job-from-its-journal', async () => {
    await sim.setFaults({ latencyMs: 2000 });
    const res = await h.api('POST', '/api/v1/applications/default/certificates', { profile: 'crash', csr: csrPem('server.died.mid.job.test', ['server.died.mid.job.test']) });
    const order = res.body['order'] as { id: string; caRequestId: string };
    const jobId = order.caRequestId.replace('connector-job:', '');
    await waitFor('job received', async () => fs.existsSync(path.join(dir, 'journal', `${jobId}.json`)));
    // The server goes away while the connector is inside the ADCS round trip; its answer has nowhere to go.
    await h.offline(async () => {
      await waitFor('answer kept in the journal', async () => out.some((l) => l.includes(`job ${jobId}: not connected`)), 30_000);
    });
    await sim.clearFaults();
    const done = await waitFor('order issued', async () => {
      const o = await h.api('GET', `/api/v1/orders/${order.id}`);
      return o.body['status'] === 'issued' ? o.body : undefined;
    }, 90_000);
    const job = await h.server.core.connectors.jobs.get(jobId);
    expect({
      first: res.status, after: done['status'], warning: done['warning'], atAdcs: requestsFor('server.died.mid.job.test').length, deliveries: job?.deliveries,
      replayed: out.some((l) => l.includes(`job ${jobId} answered from the journal`)),
    }).toEqual({ first: 202, after: 'issued', warning: null, atAdcs: 1, deliveries: 2, replayed: true });
  }, 120_000);
});
