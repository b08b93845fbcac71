/**
 * Failure classification against the emulator's fault injection and a closed port: every TLS
 * fault, 5xx, connection reset, timeout, refused connection. Each maps to one AdcsError code
 * with the exact cause, and `retryable` says whether failover may help.
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AdcsSim, FaultsInput } from '@certbridge/adcs-sim';
import { AdcsClient } from '../src/client.ts';
import { isAdcsError, type AdcsError } from '../src/errors.ts';
import { clientFor, startSim, PASSWORD } from './helpers/sim.ts';
import { freePort } from './helpers/ports.ts';

let sim: AdcsSim;
const clients: AdcsClient[] = [];

beforeAll(async () => { sim = await startSim(); });
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await sim.clearFaults();
});
afterAll(async () => { await sim?.stop(); });

function client(overrides: Parameters<typeof clientFor>[1] = {}): AdcsClient {
  const c = clientFor(sim, overrides);
  clients.push(c);
  return c;
}

async function failure(run: () => Promise<unknown>): Promise<Pick<AdcsError, 'code' | 'causeCode' | 'retryable' | 'httpStatus'>> {
  const err = await run().then(() => undefined, (e: unknown) => e);
  if (!isAdcsError(err)) throw new Error(`expected an AdcsError, got ${String(err)}`);
  return { code: err.code, causeCode: err.causeCode, retryable: err.retryable, httpStatus: err.httpStatus };
}

describe('TLS faults', () => {
  it.each([
    ['fail/expired-certificate', { tls: 'expired' }, 'CERT_HAS_EXPIRED'],
    ['fail/wrong-host-certificate', { tls: 'wrong-host' }, 'ERR_TLS_CERT_ALTNAME_INVALID'],
    ['fail/self-signed-certificate', { tls: 'self-signed' }, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
  ] as Array<[string, FaultsInput, string]>)('%s', async (_name, faults, causeCode) => {
    await sim.setFaults(faults);
    expect(await failure(() => client().templates())).toEqual({ code: 'ADCS_TLS', causeCode, retryable: true, httpStatus: undefined });
  });

  it('fail/untrusted-chain-without-ca-option', async () => {
    const c = new AdcsClient({ baseUrl: sim.url, username: 'alice', password: PASSWORD, domain: 'CORP', auth: 'basic', timeoutMs: 10_000 });
    clients.push(c);
    expect((await failure(() => c.templates())).causeCode).toBe('UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
  });

  it('fail/host-name-checked-even-with-reject-unauthorized-false', async () => {
    await sim.setFaults({ tls: 'wrong-host' });
    expect((await failure(() => client({ rejectUnauthorized: false }).templates())).causeCode).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('ok/reject-unauthorized-false-accepts-untrusted-chain-with-right-host', async () => {
    const c = new AdcsClient({ baseUrl: sim.url, username: 'alice', password: PASSWORD, domain: 'CORP', auth: 'basic', rejectUnauthorized: false });
    clients.push(c);
    expect((await c.templates()).length).toBe(3);
  });
});

describe('server and network faults', () => {
  it.each([
    ['fail/http-500', 500],
    ['fail/http-503', 503],
  ] as const)('%s', async (_name, httpStatus) => {
    await sim.setFaults({ httpStatus });
    expect(await failure(() => client().templates())).toEqual({ code: 'ADCS_UNAVAILABLE', causeCode: undefined, retryable: true, httpStatus });
  });

  it('fail/connection-reset-by-emulator', async () => {
    await sim.setFaults({ reset: true });
    expect(await failure(() => client().templates())).toEqual({ code: 'ADCS_UNAVAILABLE', causeCode: 'ECONNRESET', retryable: true, httpStatus: undefined });
  });

  it('fail/connection-reset-during-tls-handshake', async () => {
    const server = net.createServer((socket) => socket.resetAndDestroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const c = new AdcsClient({ baseUrl: `https://127.0.0.1:${port}/certsrv/`, username: 'alice', password: PASSWORD, domain: 'CORP', auth: 'basic' });
    clients.push(c);
    try {
      expect(await failure(() => c.templates())).toEqual({ code: 'ADCS_UNAVAILABLE', causeCode: 'ECONNRESET', retryable: true, httpStatus: undefined });
    } finally {
      server.close();
    }
  });

  it('fail/timeout', async () => {
    await sim.setFaults({ latencyMs: 5_000 });
    expect(await failure(() => client({ timeoutMs: 200 }).templates())).toEqual({ code: 'ADCS_TIMEOUT', causeCode: 'ETIMEDOUT', retryable: true, httpStatus: undefined });
  });

  it('fail/connection-refused', async () => {
    const port = await freePort();
    const c = new AdcsClient({ baseUrl: `https://127.0.0.1:${port}/certsrv/`, username: 'alice', password: PASSWORD, domain: 'CORP', auth: 'basic' });
    clients.push(c);
    expect(await failure(() => c.templates())).toEqual({ code: 'ADCS_UNAVAILABLE', causeCode: 'ECONNREFUSED', retryable: true, httpStatus: undefined });
  });
});
