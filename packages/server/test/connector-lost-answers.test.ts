/**
 * Lost ADCS answers through the on-prem connector, as for the direct ADCS backend
 * (adcs-lost-answers.test.ts): a connector CA over two adcs-sim servers. A submission whose answer
 * the first server lost fails over and the order names that server; a request the first server
 * issued but whose certificate the connector could not fetch stays pending there and is fetched later.
 */
import fs from 'node:fs/promises';
import type { AdcsSim } from '@certbridge/adcs-sim';
import type { Runner } from '@certbridge/connector';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { csrPem, SIM_PASSWORD, startSim } from './adcs-fixtures.ts';
import { fastRunner, registeredConnector, startTestServer, type ServerHandle } from './connector-fixtures.ts';
import { ENGINES } from './helpers.ts';

describe.each(ENGINES)('lost ADCS answers through a connector on %s', (engine) => {
  let first: AdcsSim;
  let second: AdcsSim;
  let h: ServerHandle;
  let runner: Runner;
  const ids: Record<string, string> = {};
  const dirs: string[] = [];

  const issue = (cn: string) => h.api('POST', '/api/v1/applications/default/certificates', { profile: 'lost-via-connector', csr: csrPem(cn) });
  const requestsFor = (sim: AdcsSim, cn: string) => sim.listRequests().filter((r) => r.request && Buffer.from(r.request, 'base64').includes(Buffer.from(cn)));

  beforeAll(async () => {
    [first, second] = await Promise.all([startSim(), startSim()]);
    h = await startTestServer(engine, dirs);
    const connector = await registeredConnector(h, 'branch-lost', dirs);
    runner = fastRunner(connector.state);
    await runner.connected();
    for (const [name, sim] of [['sim-a', first], ['sim-b', second]] as const) {
      const conn = await h.api('POST', '/api/v1/connections', { name, type: 'adcs', url: sim.url, domain: 'CORP', username: 'alice', password: SIM_PASSWORD, auth: 'basic', caPem: sim.tlsCaPem, timeoutMs: 5000 });
      expect(conn.status).toBe(201);
      ids[name] = String(conn.body['id']);
    }
    const ca = await h.api('POST', '/api/v1/cas/connector', { name: 'corp-lost', connector: 'branch-lost', servers: [{ connection: 'sim-a', priority: 1 }, { connection: 'sim-b', priority: 2 }], jobTimeoutSeconds: 10 });
    expect(ca.status).toBe(201);
    expect((await h.api('POST', '/api/v1/profiles', { slug: 'lost-via-connector', ca: ca.body['id'], policy: 'permissive', template: 'WebServer' })).status).toBe(201);
    const app = await h.api('GET', '/api/v1/applications/default');
    expect((await h.api('PATCH', '/api/v1/applications/default', { profiles: [...(app.body['profiles'] as { slug: string }[]).map((p) => p.slug), 'lost-via-connector'] })).status).toBe(200);
    // Warm the connector's pooled connection to the first server: the cut then hits a reused one.
    expect((await issue('warm.via.connector.test')).status).toBe(201);
  });
  afterEach(async () => {
    await Promise.all([first.clearFaults(), second.clearFaults()]);
  });
  afterAll(async () => {
    await runner?.stop();
    await h?.close();
    await Promise.all([first?.stop(), second?.stop()]);
    await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  it('ok/submit-answer-lost-at-the-first-server-the-second-issues-and-the-order-says-where-to-look', async () => {
    await first.setFaults({ loseAnswer: true, page: 'certfnsh.asp', count: 1 });
    const res = await issue('cut.via.connector.test');
    const order = res.body['order'] as { id: string; caServer: string; warning: string };
    expect({ status: res.status, server: order.caServer }).toEqual({ status: 201, server: ids['sim-b'] });
    expect(requestsFor(first, 'cut.via.connector.test').map((r) => r.disposition)).toEqual(['issued']);
    expect(order.warning).toMatch(/^sim-a got the request at \d{4}-\d\d-\d\dT[\d:.]+Z and the connection was cut before its answer/);
    expect(order.warning).toContain("for a request by CORP\\alice at that moment, and revoke or deny it there.");
    // The connector reported the lost answer with the failed job.
    const jobs = await sql<{ status: string; error: string | null }>`select status, error from connector_jobs where order_id = ${order.id} order by created_at`.execute(h.server.core.db);
    expect(jobs.rows.map((j) => [j.status, j.error ? JSON.parse(j.error).answerLost ?? false : null])).toEqual([['failed', true], ['done', null]]);
  });

  it('ok/issued-at-the-first-server-but-not-fetched-stays-there-and-is-fetched-later', async () => {
    await first.setFaults({ loseAnswer: true, page: 'certnew.cer' });
    const res = await issue('unfetched.via.connector.test');
    const taken = requestsFor(first, 'unfetched.via.connector.test');
    expect(taken.map((r) => r.disposition)).toEqual(['issued']);
    const order = res.body['order'] as { id: string; status: string; caServer: string; caRequestId: string };
    expect({ status: res.status, order: order.status, server: order.caServer, requestId: order.caRequestId })
      .toEqual({ status: 202, order: 'pending', server: ids['sim-a'], requestId: String(taken[0]!.id) });
    expect(requestsFor(second, 'unfetched.via.connector.test')).toEqual([]);

    await first.clearFaults();
    const fetched = await h.api('POST', `/api/v1/orders/${order.id}/fetch`);
    expect({ status: fetched.status, order: fetched.body['status'] }).toEqual({ status: 200, order: 'issued' });
    expect(requestsFor(first, 'unfetched.via.connector.test')).toHaveLength(1);
  });
});
