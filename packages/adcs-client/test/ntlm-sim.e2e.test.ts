/**
 * NTLMv2 end to end against the emulator: issuance, Extended Protection (EPA) off and required,
 * one handshake per pooled connection, probe's EPA detection.
 */
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdcsSim } from '@certbridge/adcs-sim';
import { AdcsClient } from '../src/client.ts';
import { isAdcsError } from '../src/errors.ts';
import { makeCsr } from './helpers/csr.ts';
import { PASSWORD, startSim } from './helpers/sim.ts';

let plain: AdcsSim;
let epa: AdcsSim;
let csr: string;
const clients: AdcsClient[] = [];

beforeAll(async () => {
  [plain, epa] = await Promise.all([
    startSim({ auth: { ntlm: true, basic: false, epa: 'off' } }),
    startSim({ auth: { ntlm: true, basic: false, epa: 'required' } }),
  ]);
  csr = await makeCsr('web2.corp.example.test', ['web2.corp.example.test']);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all([plain?.stop(), epa?.stop()]);
});

function client(sim: AdcsSim, options: { password?: string; maxSockets?: number; channelBindings?: boolean; scheme?: 'ntlm' | 'negotiate' } = {}): AdcsClient {
  const c = new AdcsClient({
    baseUrl: sim.url, username: 'alice', password: options.password ?? PASSWORD, domain: 'CORP', auth: 'ntlm',
    ca: sim.tlsCaPem, timeoutMs: 10_000, maxSockets: options.maxSockets ?? 2,
  }, options.channelBindings === false ? { channelBindings: false } : {});
  clients.push(c);
  return c;
}

const issuedSubject = async (c: AdcsClient): Promise<string> => {
  const r = await c.submit({ csrPem: csr, template: 'WebServer' });
  return r.status === 'issued' ? new X509Certificate(r.certificatePem).subject : JSON.stringify(r);
};

describe('NTLM against adcs-sim', () => {
  it.each([
    ['ok/issued-epa-off', () => plain],
    ['ok/issued-epa-required-with-channel-binding', () => epa],
  ])('%s', async (_name, sim) => {
    expect(await issuedSubject(client(sim()))).toBe('CN=web2.corp.example.test');
  });

  it('fail/epa-required-without-channel-binding', async () => {
    const err = await client(epa, { channelBindings: false }).templates().catch((e: unknown) => e);
    expect(isAdcsError(err) ? [err.code, err.httpStatus] : err).toEqual(['ADCS_AUTH_FAILED', 401]);
  });

  it('fail/wrong-password', async () => {
    const err = await client(plain, { password: 'wrong' }).templates().catch((e: unknown) => e);
    expect(isAdcsError(err) ? [err.code, err.retryable] : err).toEqual(['ADCS_AUTH_FAILED', false]);
  });

  it('ok/one-handshake-for-five-submits-on-one-connection', async () => {
    const c = client(plain, { maxSockets: 1 });
    for (let i = 0; i < 5; i++) await c.submit({ csrPem: csr, template: 'WebServer' });
    expect(await c.counters()).toEqual({ handshakes: 1, requests: 11 });
  });

  it('ok/twenty-parallel-submits-two-handshakes-with-two-sockets', async () => {
    const c = client(plain, { maxSockets: 2 });
    const results = await Promise.all(Array.from({ length: 20 }, () => c.submit({ csrPem: csr, template: 'WebServer' })));
    expect({ issued: results.filter((r) => r.status === 'issued').length, handshakes: (await c.counters()).handshakes }).toEqual({ issued: 20, handshakes: 2 });
  });

  it.each([
    ['ok/probe-epa-required', () => epa, true],
    ['ok/probe-epa-not-required', () => plain, false],
  ])('%s', async (_name, sim, expected) => {
    const report = await client(sim()).probe();
    expect({ auth: report.auth.ok, epa: report.epaRequired }).toEqual({ auth: true, epa: expected });
  });
});
