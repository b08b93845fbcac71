/**
 * Load and shared state of ADCS servers: 200 concurrent issuances through one ADCS CA (all issued,
 * none lost or doubled, the per-server rate cap respected as counted at the emulator), and two
 * server cores on one database sharing the rate cap and the circuit breaker of each server.
 */
import { X509Certificate } from 'node:crypto';
import type { AdcsSim } from '@certbridge/adcs-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addConnection, addAdcsProfile, createAdcsEnv, csrPem, startSim, type AdcsEnv } from './adcs-fixtures.ts';
import { bearer, ENGINES } from './helpers.ts';

/** Submission times (ms) at the emulator of the requests whose subject CN ends with `suffix`. */
function arrivals(sim: AdcsSim, suffix: string): number[] {
  return sim.listRequests()
    .filter((r) => r.certificate && new X509Certificate(Buffer.from(r.certificate, 'base64')).subject.endsWith(suffix))
    .map((r) => Date.parse(r.submittedAt)).sort((a, b) => a - b);
}

/** Most arrivals inside any window of `ms` (a token bucket of capacity = rate allows 2 × rate per second). */
function busiestWindow(times: number[], ms: number): number {
  let best = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j]! - times[i]! >= ms) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

async function adcsCa(env: AdcsEnv, name: string, servers: { connection: string; rate: number }[]): Promise<string> {
  const res = await env.api('POST', '/api/v1/cas/adcs', { name, servers: servers.map((s, i) => ({ connection: s.connection, priority: i + 1, maxRequestsPerSecond: s.rate })) });
  if (res.statusCode !== 201) throw new Error(`CA ${name}: ${res.statusCode} ${res.body}`);
  return res.json().id;
}

describe.each(ENGINES)('ADCS load and shared server state on %s', (engine) => {
  let sim: AdcsSim;
  let standby: AdcsSim;
  let env: AdcsEnv;
  let conn: string;
  let standbyConn: string;
  let other: Awaited<ReturnType<AdcsEnv['restart']>>;
  let loadArrivals: number[] = [];

  beforeAll(async () => {
    [sim, standby] = await Promise.all([startSim(), startSim()]);
    env = await createAdcsEnv(engine);
    conn = await addConnection(env, sim, 'load', { maxSockets: 8 });
    standbyConn = await addConnection(env, standby, 'standby');
    await addAdcsProfile(env, 'load-web', await adcsCa(env, 'load-ca', [{ connection: conn, rate: 25 }]), 'WebServer');
    // A second core (another server instance) on the same database, with its own memory.
    other = await env.restart();
  });
  afterAll(async () => {
    await env?.close();
    await Promise.all([sim?.stop(), standby?.stop()]);
  });

  const issueVia = (app: AdcsEnv['app'], cn: string) =>
    app.inject({ method: 'POST', url: '/api/v1/applications/default/certificates', headers: bearer(env.adminToken), payload: { profile: 'load-web', csr: csrPem(cn, [cn]) } });

  it('ok/200-concurrent-issuances-all-issued-none-lost-or-doubled', async () => {
    const cns = Array.from({ length: 200 }, (_, i) => `n${i}.load.corp.example.test`);
    const results = await Promise.all(cns.map((cn) => issueVia(env.app, cn)));
    const subjects = results.map((r) => new X509Certificate(r.json().certificate.certificate).subject);
    const requestIds = new Set(results.map((r) => r.json().order.caRequestId));
    const times = arrivals(sim, '.load.corp.example.test');
    expect({
      statuses: results.map((r) => r.statusCode), subjects, distinctRequestIds: requestIds.size,
      atEmulator: times.length, issuedInDb: Number((await env.core.db.selectFrom('orders').select((eb) => eb.fn.countAll<string>().as('n')).where('status', '=', 'issued').where('common_name', 'like', '%.load.corp.example.test').executeTakeFirstOrThrow()).n),
    }).toEqual({ statuses: Array(200).fill(201), subjects: cns.map((cn) => `CN=${cn}`), distinctRequestIds: 200, atEmulator: 200, issuedInDb: 200 });
    loadArrivals = times;
  }, 180_000);

  // On PGlite the 200 issuances keep the one thread (cores, database and emulator) busy: its
  // stalls bunch requests granted apart, so emulator times measure the thread, not the cap.
  // two-instances-take-tokens-from-one-bucket checks the grants themselves on both engines.
  it.skipIf(engine === 'pglite')('ok/200-concurrent-rate-cap-respected-as-counted-at-the-emulator', () => {
    // 25 per second with a bucket of 25: at most 50 in any second, and 175 tokens take ≥ 7 s.
    expect({ arrivals: loadArrivals.length, busiest: busiestWindow(loadArrivals, 1000) <= 50, spanAtLeast7s: loadArrivals.at(-1)! - loadArrivals[0]! >= 6_500 })
      .toEqual({ arrivals: 200, busiest: true, spanAtLeast7s: true });
  });

  // Instances that share a database are PostgreSQL deployments. On PGlite both cores and the
  // emulator share one busy thread: its stalls bunch arrivals, so emulator times stop tracking grants.
  it.skipIf(engine === 'pglite')('ok/two-instances-share-one-rate-cap', async () => {
    // A low cap, so neither instance stalls or queues for sockets and arrivals track the grants.
    await env.api('PUT', '/api/v1/cas/load-ca/servers', { servers: [{ connection: conn, priority: 1, maxRequestsPerSecond: 4 }] });
    const cns = Array.from({ length: 24 }, (_, i) => `s${i}.shared.corp.example.test`);
    const results = await Promise.all(cns.map((cn, i) => issueVia(i % 2 ? other.app : env.app, cn)));
    const times = arrivals(sim, '.shared.corp.example.test');
    // One bucket of 4/s for both: the 20 requests after the first 4 take ≥ 5 s, at most 8 in any
    // second. A bucket per instance would let 8/s through and finish in about 2 s.
    expect({ statuses: [...new Set(results.map((r) => r.statusCode))], atEmulator: times.length, busiest: busiestWindow(times, 1000) <= 8, spanAtLeast4s: times.at(-1)! - times[0]! >= 4_000 })
      .toEqual({ statuses: [201], atEmulator: 24, busiest: true, spanAtLeast4s: true });
  }, 60_000);

  it('ok/two-instances-take-tokens-from-one-bucket', async () => {
    const bucket = await addConnection(env, sim, 'bucket');
    const limiters = [env.core.adcs.runtime.limiter, other.core.adcs.runtime.limiter];
    const started = Date.now();
    const grants: number[] = [];
    await Promise.all(Array.from({ length: 30 }, (_, i) => limiters[i % 2]!.acquire(bucket, 10).then(() => grants.push(Date.now() - started))));
    grants.sort((a, b) => a - b);
    // Token-bucket bound (capacity 10, 10/s) between every pair of grants, 1 token of clock slack.
    const violations = grants.flatMap((tj, j) => grants.slice(0, j).filter((ti, i) => j - i + 1 > 10 + (10 * (tj - ti)) / 1000 + 1));
    expect({ grants: grants.length, violations: violations.length, spanAtLeast1900ms: grants.at(-1)! - grants[0]! >= 1_900 }).toEqual({ grants: 30, violations: 0, spanAtLeast1900ms: true });
  });

  it('ok/a-circuit-opened-by-one-instance-is-open-for-the-other', async () => {
    const ca = await adcsCa(env, 'shared-circuit', [{ connection: conn, rate: 100 }, { connection: standbyConn, rate: 100 }]);
    await addAdcsProfile(env, 'circuit-web', ca, 'WebServer');
    const via = (app: AdcsEnv['app'], cn: string) =>
      app.inject({ method: 'POST', url: '/api/v1/applications/default/certificates', headers: bearer(env.adminToken), payload: { profile: 'circuit-web', csr: csrPem(cn) } });
    await sim.setFaults({ httpStatus: 503, count: 100 });
    try {
      // Instance A fails over three times: the primary's circuit opens.
      for (let i = 0; i < 3; i++) expect((await via(env.app, `a${i}.circuit.corp.example.test`)).json().order.caServer).toBe(standbyConn);
    } finally {
      await sim.clearFaults();
    }
    const seenByB = (await other.app.inject({ method: 'GET', url: `/api/v1/cas/${ca}/servers`, headers: bearer(env.adminToken) })).json().items;
    // The primary answers again, but B does not ask it while the circuit A opened is open.
    const before = sim.listRequests().length;
    const viaB = (await via(other.app, 'b.circuit.corp.example.test')).json();
    expect({ circuits: seenByB.map((s: { name: string; circuit: string }) => `${s.name}:${s.circuit}`), server: viaB.order.caServer, primaryAsked: sim.listRequests().length - before })
      .toEqual({ circuits: ['load:open', 'standby:closed'], server: standbyConn, primaryAsked: 0 });
  });

  it('ok/after-the-open-period-exactly-one-instance-gets-the-trial-call', async () => {
    env.clock.advance(31_000);
    const a = env.core.adcs.runtime.breakers;
    const b = other.core.adcs.runtime.breakers;
    const trial = [await a.allow(conn), await b.allow(conn)];
    await a.success(conn);
    expect({ trial, afterSuccessSeenByB: await b.state(conn), bAllowed: await b.allow(conn) }).toEqual({ trial: [true, false], afterSuccessSeenByB: 'closed', bAllowed: true });
  });
});
