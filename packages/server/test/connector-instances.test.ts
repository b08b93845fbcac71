/**
 * Connector jobs across server instances (issue 7 item 5) and an offline connector (item 4):
 * two `startServer` instances on one PostgreSQL database; the connector's socket is held by B,
 * the order is placed on A, and the certificate comes back to A's order through the database.
 */
import fs from 'node:fs/promises';
import type { AdcsSim } from '@certbridge/adcs-sim';
import type { Runner } from '@certbridge/connector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrPem, SIM_PASSWORD, startSim } from './adcs-fixtures.ts';
import { fastRunner, registeredConnector, startTestServer, waitFor, type ServerHandle } from './connector-fixtures.ts';

const PG = process.env['TEST_DATABASE_URL'];
if (!PG) console.warn('TEST_DATABASE_URL is not set: the connector two-instances tests need PostgreSQL and are skipped');

describe.skipIf(!PG)('connector jobs across two instances (skipped without TEST_DATABASE_URL)', () => {
  let sim: AdcsSim;
  let a: ServerHandle & { shared?: { url: string; masterKey: string; token: string } };
  let b: ServerHandle;
  let runner: Runner;
  let connector: Awaited<ReturnType<typeof registeredConnector>>;
  const dirs: string[] = [];
  const lines: string[] = [];

  const addCa = async (name: string, profile: string, jobTimeoutSeconds: number) => {
    const ca = await a.api('POST', '/api/v1/cas/connector', { name, connector: 'shared-branch', servers: [{ connection: 'sim-far', priority: 1 }], jobTimeoutSeconds });
    expect(ca.status).toBe(201);
    expect((await a.api('POST', '/api/v1/profiles', { slug: profile, ca: ca.body['id'], policy: 'permissive', template: 'WebServer' })).status).toBe(201);
    const app = await a.api('GET', '/api/v1/applications/default');
    const profiles = [...(app.body['profiles'] as { slug: string }[]).map((p) => p.slug), profile];
    expect((await a.api('PATCH', '/api/v1/applications/default', { profiles })).status).toBe(200);
  };

  beforeAll(async () => {
    sim = await startSim();
    a = await startTestServer('postgres', dirs);
    b = await startTestServer('postgres', dirs, a.shared);
    connector = await registeredConnector(a, 'shared-branch', dirs);
    // The connector dials instance B only.
    runner = fastRunner({ ...connector.state, server: new URL(b.server.httpsUrl).origin }, lines);
    await runner.connected();
    expect((await a.api('POST', '/api/v1/connections', { name: 'sim-far', type: 'adcs', url: sim.url, domain: 'CORP', username: 'alice', password: SIM_PASSWORD, auth: 'basic', caPem: sim.tlsCaPem, timeoutMs: 5000 })).status).toBe(201);
    await addCa('far-ca', 'far', 10);
    await addCa('far-ca-impatient', 'far-impatient', 1);
  });
  afterAll(async () => {
    await runner?.stop();
    await b?.close();
    await a?.close();
    await sim?.stop();
    await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  it('ok/order-on-A-reaches-the-socket-held-by-B-and-is-issued', async () => {
    const res = await a.api('POST', '/api/v1/applications/default/certificates', { profile: 'far', csr: csrPem('cross.instance.test', ['cross.instance.test']) });
    const order = res.body['order'] as { status: string; caRequestId: string };
    const dialed = lines.filter((l) => l.startsWith('connected to')).map((l) => new URL(l.split(' ')[2]!).port);
    expect({ status: res.status, order: order.status, atSim: sim.getRequest(Number(order.caRequestId))?.template, dialed: [...new Set(dialed)] })
      .toEqual({ status: 201, order: 'issued', atSim: 'WebServer', dialed: [new URL(b.server.httpsUrl).port] });
  });

  it('ok/order-on-A-waits-for-the-connector-then-B-completes-it-in-the-background', async () => {
    await runner.stop();
    const res = await a.api('POST', '/api/v1/applications/default/certificates', { profile: 'far-impatient', csr: csrPem('offline.instance.test') });
    const waiting = res.body['order'] as { id: string; status: string; disposition: string };
    // The connector comes back, to B only; the pending poll (pg-boss, either instance) finishes the order on A's database.
    runner = fastRunner({ ...connector.state, server: new URL(b.server.httpsUrl).origin }, lines);
    const done = await waitFor('order issued', async () => {
      const o = await a.api('GET', `/api/v1/orders/${waiting.id}`);
      return o.body['status'] === 'issued' ? o.body : undefined;
    }, 90_000);
    expect({ status: res.status, order: waiting.status, disposition: waiting.disposition, after: done['status'], atSim: sim.getRequest(Number(done['caRequestId']))?.template })
      .toEqual({ status: 202, order: 'pending', disposition: 'waiting for connector shared-branch', after: 'issued', atSim: 'WebServer' });
  }, 120_000);
});
