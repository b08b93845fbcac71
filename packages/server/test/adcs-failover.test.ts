/**
 * Several ADCS servers behind one CA: failover when the primary is down, the circuit breaker,
 * TLS trust failures with their exact code, the connection test, and 50 concurrent issuances.
 */
import type { AdcsSim } from '@certbridge/adcs-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAdcsCa, addAdcsProfile, addConnection, createAdcsEnv, csrPem, issue, startSim, type AdcsEnv } from './adcs-fixtures.ts';
import { ENGINES } from './helpers.ts';
import { startTlsServer } from './adcs-tls-server.ts';

describe.each(ENGINES)('ADCS servers on %s', (engine) => {
  let primary: AdcsSim;
  let secondary: AdcsSim;
  let other: AdcsSim;
  let env: AdcsEnv;
  let primaryConn: string;
  let secondaryConn: string;

  beforeAll(async () => {
    [primary, secondary, other] = await Promise.all([startSim(), startSim(), startSim()]);
    env = await createAdcsEnv(engine);
    primaryConn = await addConnection(env, primary, 'ca1');
    secondaryConn = await addConnection(env, secondary, 'ca2');
    const ca = await addAdcsCa(env, 'corp-ha', [primaryConn, secondaryConn]);
    await addAdcsProfile(env, 'ha-web', ca, 'WebServer');
  });
  afterAll(async () => {
    await env?.close();
    await Promise.all([primary?.stop(), secondary?.stop(), other?.stop()]);
  });

  it('ok/50-concurrent-issuances-all-succeed-on-the-primary', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => issue(env, { profile: 'ha-web', csr: csrPem(`c${i}.corp.example.test`) })));
    expect(results.map((r) => r.statusCode)).toEqual(Array(50).fill(201));
    expect(new Set(results.map((r) => r.json().order.caServer))).toEqual(new Set([primaryConn]));
  });

  it('ok/connection-test-reports-tls-auth-ca-and-templates', async () => {
    const res = await env.api('POST', `/api/v1/connections/${primaryConn}/test`);
    const r = res.json();
    expect({ ok: r.ok, reachable: r.reachable, tls: r.tls.ok, auth: r.auth.ok, ca: r.caName, templates: r.templates.map((t: { name: string }) => t.name).sort() })
      .toEqual({ ok: true, reachable: true, tls: true, auth: true, ca: 'corp-SIM-CA', templates: ['ManagerApproval', 'WebServer'] });
  });

  it('ok/primary-stopped-the-secondary-serves', async () => {
    await primary.stop();
    const res = await issue(env, { profile: 'ha-web', csr: csrPem('failover.corp.example.test') });
    expect({ status: res.statusCode, server: res.json().order?.caServer }).toEqual({ status: 201, server: secondaryConn });
    expect(secondary.listRequests().some((r) => r.template === 'WebServer')).toBe(true);
  });

  it('ok/circuit-opens-after-repeated-failures-and-health-check-records-it', async () => {
    await issue(env, { profile: 'ha-web', csr: csrPem('f2.corp.example.test') });
    await issue(env, { profile: 'ha-web', csr: csrPem('f3.corp.example.test') });
    await env.core.adcs.cas.healthCheck();
    const servers = (await env.api('GET', '/api/v1/cas/corp-ha/servers')).json().items;
    expect(servers.map((s: { name: string; priority: number; circuit: string; healthy: boolean }) => [s.name, s.priority, s.circuit, s.healthy]))
      .toEqual([['ca1', 1, 'open', false], ['ca2', 2, 'closed', true]]);
  });

  it('fail/all-servers-down-is-ca-unavailable-with-every-server-listed', async () => {
    await secondary.setFaults({ httpStatus: 503, count: 10 });
    try {
      const res = await issue(env, { profile: 'ha-web', csr: csrPem('down.corp.example.test') });
      expect({ status: res.statusCode, code: res.json().error.code, servers: res.json().error.details.servers.map((s: { server: string }) => s.server) })
        .toEqual({ status: 503, code: 'CA_UNAVAILABLE', servers: ['ca2', 'ca1'] });
    } finally {
      await secondary.clearFaults();
    }
  });

  /** An ADCS profile on a CA over one connection; issuing through it returns the error. */
  async function issueThrough(slug: string, url: string, caPem: string | undefined): Promise<{ status: number; code: string; tlsCode: string }> {
    const conn = await addConnection(env, other, `c-${slug}`, { url, ...(caPem ? { caPem } : { caPem: null }) });
    const ca = await addAdcsCa(env, `ca-${slug}`, [conn]);
    // The template cache of a CA nobody can reach is empty: seed it as a former refresh would have.
    await env.core.db.insertInto('adcs_templates').values({ connection_id: conn, name: 'WebServer', display_name: 'Web Server', kind: 'O', refreshed_at: new Date() }).execute();
    await addAdcsProfile(env, `p-${slug}`, ca, 'WebServer');
    const res = await issue(env, { profile: `p-${slug}`, csr: csrPem(`${slug}.corp.example.test`) });
    return { status: res.statusCode, code: res.json().error?.code, tlsCode: res.json().error?.details?.tlsCode };
  }

  it.each([
    ['fail/tls-expired-server-certificate', 'expired', 'CERT_HAS_EXPIRED'],
    ['fail/tls-host-name-mismatch', 'wrong-host', 'ERR_TLS_CERT_ALTNAME_INVALID'],
  ] as const)('%s', async (name, fault, tlsCode) => {
    await other.setFaults({ tls: fault });
    try {
      expect(await issueThrough(fault, other.url, other.tlsCaPem)).toEqual({ status: 502, code: 'CA_TLS_ERROR', tlsCode });
    } finally {
      await other.clearFaults();
    }
  });

  it('fail/tls-incomplete-chain-from-an-untrusted-issuer', async () => {
    expect(await issueThrough('incomplete', other.url, secondary.tlsCaPem)).toEqual({ status: 502, code: 'CA_TLS_ERROR', tlsCode: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' });
  });

  it.each([
    ['fail/tls-leaf-signed-by-an-untrusted-ca', 'leaf', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ['fail/tls-chain-ending-in-an-untrusted-root', 'leaf+root', 'SELF_SIGNED_CERT_IN_CHAIN'],
  ] as const)('%s', async (_name, served, tlsCode) => {
    const server = await startTlsServer(served);
    try {
      expect(await issueThrough(served.replace('+', '-'), server.url, other.tlsCaPem)).toEqual({ status: 502, code: 'CA_TLS_ERROR', tlsCode });
    } finally {
      await server.stop();
    }
  });
});
