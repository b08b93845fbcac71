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
import { makeCsr } from './helpers/csr.ts';

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
    // Nothing was sent: no answer can have been lost.
    expect((await c.templates().catch((e: AdcsError) => e)) as AdcsError).toMatchObject({ answerLost: false });
  });
});

/**
 * Answers lost after the request was sent: the emulator handles the request (the CA records it,
 * and issues) and then cuts the connection. A submission is never sent twice, and a request the
 * CA issued is never abandoned for a new one.
 */
describe('lost answers', () => {
  const submitFailure = async (c: AdcsClient, csrPem: string) => {
    const err = await c.submit({ csrPem, template: 'WebServer' }).then(() => undefined, (e: unknown) => e);
    if (!isAdcsError(err)) throw new Error(`expected an AdcsError, got ${String(err)}`);
    return { code: err.code, causeCode: err.causeCode, retryable: err.retryable, answerLost: err.answerLost };
  };

  it.each([
    ['fail/submit-answer-lost-on-a-fresh-connection', false],
    ['fail/submit-answer-lost-on-a-reused-connection-is-not-resent', true],
  ] as const)('%s', async (_name, warm) => {
    const c = client();
    if (warm) await c.templates();
    const before = sim.listRequests().length;
    await sim.setFaults({ loseAnswer: true, page: 'certfnsh.asp', count: 1 });
    expect(await submitFailure(c, await makeCsr('lost.corp.example.test'))).toEqual({ code: 'ADCS_UNAVAILABLE', causeCode: 'ECONNRESET', retryable: true, answerLost: true });
    // The CA took it exactly once (a resend after the cut would have made a second request).
    const taken = sim.listRequests().slice(before);
    expect(taken.map((r) => r.disposition)).toEqual(['issued']);
  });

  it('fail/submit-timed-out-after-sending-is-an-answer-lost', async () => {
    await sim.setFaults({ latencyMs: 5_000, page: 'certfnsh.asp' });
    expect(await submitFailure(client({ timeoutMs: 300 }), await makeCsr('slow.corp.example.test'))).toEqual({ code: 'ADCS_TIMEOUT', causeCode: 'ETIMEDOUT', retryable: true, answerLost: true });
  });

  it('ok/issued-but-certificate-not-fetched-is-answered-pending-with-its-request-id', async () => {
    const c = client();
    await c.templates();
    const before = sim.listRequests().length;
    // The first fetch and the one retry on a fresh connection (the lane's stale-socket retry) both lose their answer.
    await sim.setFaults({ loseAnswer: true, page: 'certnew.cer', count: 2 });
    const result = await c.submit({ csrPem: await makeCsr('unfetched.corp.example.test'), template: 'WebServer' });
    const taken = sim.listRequests().slice(before);
    expect(taken.map((r) => [r.id, r.disposition])).toEqual([[result.requestId, 'issued']]);
    expect(result).toMatchObject({ status: 'pending', requestId: taken[0]!.id });
    expect(result.status === 'pending' && result.dispositionMessage).toMatch(/^Issued, but the certificate could not be fetched yet: .*Fetching request \d+ again gets it\.$/);
    // Fetching it later gets the certificate the CA issued, and the CA still holds one request.
    const fetched = await c.retrieve(taken[0]!.id);
    expect(fetched.status).toBe('issued');
    expect(sim.listRequests().length).toBe(before + 1);
  });
});
