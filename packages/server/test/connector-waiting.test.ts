/**
 * Orders through a connector that is not there (issue 7): the API answers 202 with the order
 * `pending` and "waiting for connector <name>" instead of holding the request; the job stays
 * queued and the background poll completes the order when the connector comes back; an order
 * whose connector never returns fails by the profile's pending lifetime and its job is never
 * sent. And the CA → connector assignment: another connector neither receives nor may answer it.
 */
import fs from 'node:fs/promises';
import type { AdcsSim } from '@certbridge/adcs-sim';
import type { Runner } from '@certbridge/connector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrPem, SIM_PASSWORD, startSim } from './adcs-fixtures.ts';
import { fastRunner, registeredConnector, startTestServer, waitFor, type ServerHandle } from './connector-fixtures.ts';
import { ENGINES } from './helpers.ts';

const DAY_MS = 86_400_000;

describe.each(ENGINES)('orders waiting for their connector on %s', (engine) => {
  let sim: AdcsSim;
  let h: ServerHandle;
  let a: Awaited<ReturnType<typeof registeredConnector>>;
  let runnerA: Runner | undefined;
  let runnerB: Runner;
  const dirs: string[] = [];
  const linesA: string[] = [];
  const linesB: string[] = [];

  const issue = async (cn: string) => {
    const res = await fetch(`${h.server.httpUrl}/api/v1/applications/default/certificates`, {
      method: 'POST', headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ profile: 'via-a', csr: csrPem(cn, [cn]) }),
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), order: ((await res.json()) as { order: { id: string; status: string; disposition: string; caRequestId: string } }).order };
  };
  const order = async (id: string) => (await h.api('GET', `/api/v1/orders/${id}`)).body;
  const job = (ticket: string) => h.server.core.connectors.jobs.get(ticket.replace('connector-job:', ''));

  beforeAll(async () => {
    sim = await startSim();
    h = await startTestServer(engine, dirs);
    a = await registeredConnector(h, 'branch-a', dirs);
    const b = await registeredConnector(h, 'branch-b', dirs);
    runnerA = fastRunner(a.state, linesA);
    runnerB = fastRunner(b.state, linesB);
    await Promise.all([runnerA.connected(), runnerB.connected()]);
    expect((await h.api('POST', '/api/v1/connections', { name: 'sim-a', type: 'adcs', url: sim.url, domain: 'CORP', username: 'alice', password: SIM_PASSWORD, auth: 'basic', caPem: sim.tlsCaPem, timeoutMs: 5000 })).status).toBe(201);
    const ca = await h.api('POST', '/api/v1/cas/connector', { name: 'ca-via-a', connector: 'branch-a', servers: [{ connection: 'sim-a', priority: 1 }], jobTimeoutSeconds: 1 });
    expect((await h.api('POST', '/api/v1/profiles', { slug: 'via-a', ca: ca.body['id'], policy: 'permissive', template: 'WebServer' })).status).toBe(201);
    const app = await h.api('GET', '/api/v1/applications/default');
    expect((await h.api('PATCH', '/api/v1/applications/default', { profiles: [...(app.body['profiles'] as { slug: string }[]).map((p) => p.slug), 'via-a'] })).status).toBe(200);
    await runnerA.stop();
    runnerA = undefined;
  });
  afterAll(async () => {
    await runnerA?.stop();
    await runnerB?.stop();
    await h?.close();
    await sim?.stop();
    await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  it('ok/order-answers-202-waiting-for-connector-then-completes-in-the-background', async () => {
    const res = await issue('waits.for.connector.test');
    expect({ status: res.status, retryAfter: res.retryAfter, order: res.order.status, disposition: res.order.disposition, ticket: res.order.caRequestId.startsWith('connector-job:') })
      .toEqual({ status: 202, retryAfter: '60', order: 'pending', disposition: 'waiting for connector branch-a', ticket: true });
    runnerA = fastRunner(a.state, linesA);
    const done = await waitFor('order issued', async () => ((await order(res.order.id))['status'] === 'issued' ? order(res.order.id) : undefined), 90_000);
    expect({ status: done['status'], atSim: sim.getRequest(Number(done['caRequestId']))?.template, certificate: typeof done['certificateId'] })
      .toEqual({ status: 'issued', atSim: 'WebServer', certificate: 'string' });
  }, 120_000);

  it('fail/another-connector-neither-receives-nor-may-answer-the-job', async () => {
    await runnerA?.stop();
    runnerA = undefined;
    const res = await issue('assigned.to.a.test');
    const before = linesB.length;
    const forged = { v: 1, type: 'result', id: res.order.caRequestId.replace('connector-job:', ''), outcome: { ok: true, result: { status: 'issued', requestId: 1, certificatePem: sim.issuingCaPem } } };
    runnerB.sendRaw(JSON.stringify(forged));
    await waitFor('refusal', async () => linesB.slice(before).some((l) => l.includes('is not a job of this connector')));
    const row = await job(res.order.caRequestId);
    expect({ status: res.status, jobsSeenByB: linesB.filter((l) => /^job /.test(l)).length, job: row?.status, connector: row?.connector_id, order: (await order(res.order.id))['status'] })
      .toEqual({ status: 202, jobsSeenByB: 0, job: 'queued', connector: a.id, order: 'pending' });
  });

  it('fail/order-whose-connector-never-returns-fails-by-pending-lifetime-and-its-job-is-never-sent', async () => {
    const res = await issue('never.answered.test');
    // 31 days later (the profile's pending lifetime is 30): the background poll gives up on it.
    await h.server.core.db.updateTable('orders').set({ created_at: new Date(Date.now() - 31 * DAY_MS), next_poll_at: new Date(Date.now() - 1000) }).where('id', '=', res.order.id).execute();
    await h.server.core.adcs.pending.runDue();
    const failed = await order(res.order.id);
    runnerA = fastRunner(a.state, linesA);
    const row = await waitFor('job dropped', async () => {
      const r = await job(res.order.caRequestId);
      return r?.status === 'failed' ? r : undefined;
    });
    expect({ status: failed['status'], reason: (failed['error'] as { reason: string }).reason, message: (failed['error'] as { message: string }).message, job: row.error, atSim: sim.listRequests().filter((r) => Buffer.from(r.request, 'base64').includes('never.answered.test')).length })
      .toEqual({
        status: 'failed', reason: 'pending-lifetime', message: expect.stringContaining('no answer through the on-prem connector within 30 days'),
        job: JSON.stringify({ message: `order ${res.order.id} is failed; the job was not sent`, retryable: false }), atSim: 0,
      });
  });
});
