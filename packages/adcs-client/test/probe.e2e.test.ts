/**
 * probe() ("test connection") against the emulator: one report per situation, with the exact
 * TLS problem, auth outcome, CA name and templates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdcsSim } from '@certbridge/adcs-sim';
import { clientFor, startSim } from './helpers/sim.ts';
import { freePort } from './helpers/ports.ts';
import { AdcsClient } from '../src/client.ts';

let sim: AdcsSim;
beforeAll(async () => { sim = await startSim(); });
afterAll(async () => { await sim?.stop(); });

describe('probe', () => {
  it('ok/healthy-basic-connection', async () => {
    const c = clientFor(sim);
    try {
      const r = await c.probe();
      expect({
        reachable: r.reachable, tls: r.tls.ok, trusted: r.tls.trusted, auth: r.auth.ok, epa: r.epaRequired,
        caName: r.caName, templates: r.templates?.map((t) => t.name).sort(), timed: typeof r.roundTripMs, error: r.error,
      }).toEqual({
        reachable: true, tls: true, trusted: true, auth: true, epa: null,
        caName: 'corp-SIM-CA', templates: ['ManagerApproval', 'SubCA', 'WebServer'], timed: 'number', error: undefined,
      });
    } finally { await c.close(); }
  });

  it('fail/wrong-password-reports-auth', async () => {
    const c = clientFor(sim, { password: 'nope' });
    try {
      const r = await c.probe();
      expect({ reachable: r.reachable, tls: r.tls.ok, auth: r.auth.ok, code: r.error?.code }).toEqual({ reachable: true, tls: true, auth: false, code: 'ADCS_AUTH_FAILED' });
    } finally { await c.close(); }
  });

  it('fail/expired-tls-certificate-reports-exact-code', async () => {
    await sim.setFaults({ tls: 'expired' });
    const c = clientFor(sim);
    try {
      const r = await c.probe();
      expect({ reachable: r.reachable, tls: r.tls.ok, code: r.tls.code, auth: r.auth.ok }).toEqual({ reachable: true, tls: false, code: 'CERT_HAS_EXPIRED', auth: false });
    } finally {
      await c.close();
      await sim.clearFaults();
    }
  });

  it('ok/untrusted-chain-reported-when-reject-unauthorized-false', async () => {
    const c = new AdcsClient({ baseUrl: sim.url, username: 'alice', password: 'Passw0rd!', domain: 'CORP', auth: 'basic', rejectUnauthorized: false });
    try {
      const r = await c.probe();
      expect({ tls: r.tls.ok, trusted: r.tls.trusted, code: r.tls.code, auth: r.auth.ok }).toEqual({ tls: true, trusted: false, code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', auth: true });
    } finally { await c.close(); }
  });

  it('fail/unreachable', async () => {
    const c = new AdcsClient({ baseUrl: `https://127.0.0.1:${await freePort()}/`, username: 'a', password: 'b', domain: 'CORP', auth: 'basic' });
    const r = await c.probe();
    expect({ reachable: r.reachable, tls: r.tls.ok, code: r.error?.code }).toEqual({ reachable: false, tls: false, code: 'ADCS_UNAVAILABLE' });
  });
});
