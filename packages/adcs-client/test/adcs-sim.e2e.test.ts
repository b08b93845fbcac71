/**
 * AdcsClient end to end against the ADCS emulator (packages/adcs-sim) over real HTTPS:
 * issuance, pending and approval, denial, templates, CA chain, over Basic (NTLM and Kerberos
 * flows are in their own files).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import type { AdcsSim } from '@certbridge/adcs-sim';
import type { AdcsClient } from '../src/client.ts';
import { makeCsr } from './helpers/csr.ts';
import { clientFor, startSim } from './helpers/sim.ts';

let sim: AdcsSim;
let csr: string;
const clients: AdcsClient[] = [];

function client(...args: Parameters<typeof clientFor> extends [AdcsSim, ...infer R] ? R : never): AdcsClient {
  const c = clientFor(sim, ...args);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  sim = await startSim({ auth: { basic: true, ntlm: true, epa: 'accept' } });
  csr = await makeCsr('web1.corp.example.test', ['web1.corp.example.test']);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await sim?.stop();
});

const subjectOf = (pem: string): string => new X509Certificate(pem).subject;

describe('submit', () => {
  it('ok/issued-over-basic', async () => {
    const result = await client({ auth: 'basic' }).submit({ csrPem: csr, template: 'WebServer' });
    expect(result.status === 'issued' ? subjectOf(result.certificatePem) : result).toBe('CN=web1.corp.example.test');
  });

  it('ok/pending-then-approved-then-retrieved', async () => {
    const c = client();
    const pending = await c.submit({ csrPem: csr, template: 'ManagerApproval' });
    if (pending.status !== 'pending') throw new Error(`expected pending, got ${JSON.stringify(pending)}`);
    await sim.approve(pending.requestId);
    const retrieved = await c.retrieve(pending.requestId);
    expect(retrieved.status === 'issued' ? subjectOf(retrieved.certificatePem) : retrieved).toBe('CN=web1.corp.example.test');
  });

  it('ok/pending-disposition', async () => {
    const pending = await client().submit({ csrPem: csr, template: 'ManagerApproval' });
    expect({ status: pending.status, message: 'dispositionMessage' in pending ? pending.dispositionMessage : '' }).toEqual({ status: 'pending', message: 'Taken Under Submission' });
  });

  it('ok/check-pending-after-approval-issues', async () => {
    const c = client();
    const pending = await c.submit({ csrPem: csr, template: 'ManagerApproval' });
    if (pending.status !== 'pending') throw new Error('expected pending');
    await sim.approve(pending.requestId);
    const checked = await c.checkPending(pending.requestId);
    expect({ status: checked.status, id: checked.requestId }).toEqual({ status: 'issued', id: pending.requestId });
  });

  it('ok/denied-by-manager-0x80094014', async () => {
    const c = client();
    const pending = await c.submit({ csrPem: csr, template: 'ManagerApproval' });
    if (pending.status !== 'pending') throw new Error('expected pending');
    sim.deny(pending.requestId);
    const denied = await c.retrieve(pending.requestId);
    expect(denied.status === 'denied' ? denied.hresult : denied).toBe('0x80094014');
  });

  it.each([
    ['fail/denied-no-enroll-permission-0x80094012', 'bob', 'WebServer', '0x80094012'],
    ['fail/denied-unknown-template-0x80094800', 'alice', 'NoSuchTemplate', '0x80094800'],
  ])('%s', async (_name, username, template, hresult) => {
    const result = await client({ username }).submit({ csrPem: csr, template });
    expect(result.status === 'denied' ? result.hresult : result).toBe(hresult);
  });
});

describe('request attributes', () => {
  it('ok/san-attribute-honoured-with-editf-attributesubjectaltname2', async () => {
    sim.setCaFlags({ attributeEndDate: true, attributeSubjectAltName2: true });
    try {
      const r = await client().submit({ csrPem: csr, template: 'WebServer', sans: ['alt1.corp.example.test', { type: 'ip', value: '10.1.2.3' }] });
      expect(r.status === 'issued' ? new X509Certificate(r.certificatePem).subjectAltName : r).toBe('DNS:alt1.corp.example.test, IP Address:10.1.2.3');
    } finally {
      sim.setCaFlags({ attributeEndDate: true, attributeSubjectAltName2: false });
    }
  });

  it('ok/expiration-date-honoured-with-editf-attributeenddate', async () => {
    const notAfter = new Date(Date.UTC(new Date().getUTCFullYear() + 1, 0, 15, 12, 0, 0));
    const r = await client().submit({ csrPem: csr, template: 'WebServer', validity: { notAfter } });
    expect(r.status === 'issued' ? new Date(new X509Certificate(r.certificatePem).validTo).toISOString() : r).toBe(notAfter.toISOString());
  });
});

describe('retrieve', () => {
  it('fail/unknown-request-id-is-denied-0x80092004', async () => {
    const result = await client().retrieve(987_654);
    expect(result).toEqual({ status: 'denied', requestId: 987_654, dispositionMessage: 'Cannot find object or property. 0x80092004 (-2146885628 CRYPT_E_NOT_FOUND)', hresult: '0x80092004' });
  });
});

describe('CA and templates', () => {
  it('ok/templates-of-alice', async () => {
    const templates = await client().templates();
    expect(templates.map((t) => `${t.kind};${t.name};${t.displayName}`).sort()).toEqual([
      'O;ManagerApproval;Manager Approval',
      'O;SubCA;Subordinate Certification Authority',
      'O;WebServer;Web Server',
    ]);
  });

  it('ok/ca-chain-issuing-then-root', async () => {
    const chain = await client().caChain();
    expect(chain.map(subjectOf)).toEqual([subjectOf(sim.issuingCaPem), subjectOf(sim.rootCaPem)]);
  });

  it('ok/ca-certificates-renewal-0', async () => {
    const { certificates } = await client().caCertificates();
    expect(certificates.map((c) => ({ renewal: c.renewal, subject: subjectOf(c.certificatePem) }))).toEqual([{ renewal: 0, subject: subjectOf(sim.issuingCaPem) }]);
  });
});

describe('authentication', () => {
  it('fail/wrong-password-basic', async () => {
    const err = await client({ password: 'wrong' }).templates().catch((e: unknown) => e);
    expect({ code: (err as { code?: string }).code, retryable: (err as { retryable?: boolean }).retryable }).toEqual({ code: 'ADCS_AUTH_FAILED', retryable: false });
  });
});
