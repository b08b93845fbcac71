/**
 * A pool of connectors per connector CA (issue 7 item 4): two real connector agents reach the
 * same ADCS emulator. The pool is set through the API; a job goes to the least busy online
 * member; when the member holding a job stops before answering, the other one finishes the order,
 * and the order says ADCS may hold an earlier request (the first member had received the job).
 */
import fs from 'node:fs';
import type { AdcsSim } from '@certbridge/adcs-sim';
import type { Runner } from '@certbridge/connector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrPem, SIM_PASSWORD, startSim } from './adcs-fixtures.ts';
import { fastRunner, registeredConnector, startTestServer, waitFor, type ServerHandle } from './connector-fixtures.ts';

describe('connector pool on pglite', () => {
  let sim: AdcsSim;
  let h: ServerHandle;
  let runnerA: Runner;
  let runnerB: Runner;
  let a: Awaited<ReturnType<typeof registeredConnector>>;
  let b: Awaited<ReturnType<typeof registeredConnector>>;
  let caId: string;
  const dirs: string[] = [];
  const linesA: string[] = [];
  const linesB: string[] = [];

  beforeAll(async () => {
    sim = await startSim();
    h = await startTestServer('pglite', dirs);
    a = await registeredConnector(h, 'pool-a', dirs);
    b = await registeredConnector(h, 'pool-b', dirs);
    runnerA = fastRunner(a.state, linesA, a.dir);
    runnerB = fastRunner(b.state, linesB, b.dir);
    await Promise.all([runnerA.connected(), runnerB.connected()]);
    expect((await h.api('POST', '/api/v1/connections', { name: 'sim-pool', type: 'adcs', url: sim.url, domain: 'CORP', username: 'alice', password: SIM_PASSWORD, auth: 'basic', caPem: sim.tlsCaPem, timeoutMs: 10_000 })).status).toBe(201);
    const ca = await h.api('POST', '/api/v1/cas/connector', { name: 'ca-pool', connector: 'pool-a', servers: [{ connection: 'sim-pool', priority: 1 }], jobTimeoutSeconds: 1 });
    expect(ca.status).toBe(201);
    caId = String(ca.body['id']);
    expect((await h.api('POST', '/api/v1/profiles', { slug: 'pool', ca: caId, policy: 'permissive', template: 'WebServer' })).status).toBe(201);
    const app = await h.api('GET', '/api/v1/applications/default');
    expect((await h.api('PATCH', '/api/v1/applications/default', { profiles: [...(app.body['profiles'] as { slug: string }[]).map((p) => p.slug), 'pool'] })).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await runnerA?.stop();
    await runnerB?.stop();
    await h?.close();
    await sim?.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  const issue = (cn: string) => h.api('POST', '/api/v1/applications/default/certificates', { profile: 'pool', csr: csrPem(cn, [cn]) });
  const jobOf = (order: { caRequestId: string }) => order.caRequestId.replace('connector-job:', '');

  it('ok/pool-is-set-through-the-api-and-an-unknown-member-is-refused', async () => {
    const set = await h.api('PUT', `/api/v1/cas/${caId}/connectors`, { connectors: ['pool-a', 'pool-b'] });
    const unknown = await h.api('PUT', `/api/v1/cas/${caId}/connectors`, { connectors: ['pool-a', 'no-such-connector'] });
    const stored = await h.server.core.db.selectFrom('cas').select('settings').where('id', '=', caId).executeTakeFirstOrThrow();
    expect({ status: set.status, connectors: set.body['connectors'], unknown: unknown.status, pool: (stored.settings as { pool?: string[] }).pool })
      .toEqual({ status: 200, connectors: [a.id, b.id], unknown: 404, pool: [b.id] });
  });

  it('ok/job-goes-to-the-least-busy-online-member', async () => {
    // pool-a holds a job ADCS is slow to answer; the next one goes to pool-b.
    await sim.setFaults({ latencyMs: 4000 });
    const first = await issue('pool.busy.one.test');
    const second = await issue('pool.busy.two.test');
    const [j1, j2] = await Promise.all([h.server.core.connectors.jobs.get(jobOf(first.body['order'] as { caRequestId: string })), h.server.core.connectors.jobs.get(jobOf(second.body['order'] as { caRequestId: string }))]);
    await sim.clearFaults();
    expect({ first: j1?.connector_id, second: j2?.connector_id }).toEqual({ first: a.id, second: b.id });
    for (const r of [first, second]) {
      const id = (r.body['order'] as { id: string }).id;
      await waitFor('order issued', async () => (await h.api('GET', `/api/v1/orders/${id}`)).body['status'] === 'issued', 30_000);
    }
  }, 60_000);

  it('ok/member-stopped-before-answering-hands-the-job-to-the-other-member', async () => {
    await sim.setFaults({ latencyMs: 3000 });
    const res = await issue('pool.handover.test');
    const order = res.body['order'] as { id: string; status: string; caRequestId: string };
    const jobId = jobOf(order);
    await waitFor('job sent to pool-a', async () => {
      const j = await h.server.core.connectors.jobs.get(jobId);
      return j?.connector_id === a.id && j.status === 'sent' && linesA.some((l) => l.includes(`job ${jobId} submit`));
    });
    await runnerA.stop();
    await sim.clearFaults();
    const done = await waitFor('order issued by pool-b', async () => {
      const o = await h.api('GET', `/api/v1/orders/${order.id}`);
      return o.body['status'] === 'issued' ? o.body : undefined;
    }, 60_000);
    const job = await h.server.core.connectors.jobs.get(jobId);
    expect({
      first: { status: res.status, order: order.status }, after: done['status'], warning: done['warning'], job: { connector: job?.connector_id, status: job?.status },
      ranOnB: linesB.some((l) => l.includes(`job ${jobId} done`)),
    }).toEqual({
      first: { status: 202, order: 'pending' }, after: 'issued', job: { connector: b.id, status: 'done' }, ranOnB: true,
      warning: expect.stringContaining('connector pool-a had received this job when it went offline'),
    });
  }, 90_000);
});
