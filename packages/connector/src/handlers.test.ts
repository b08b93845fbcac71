import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAdcsSim, type AdcsSim } from '@certbridge/adcs-sim';
import { buildCsr, generateKeyPair, parseDn, pemEncode } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobHandlers, type JobHandlers } from './handlers.ts';
import type { AdcsOptionsWire } from './protocol.ts';

const PASSWORD = 'Passw0rd!';
/** openssl prints "Bag Attributes" before the PEM block. */
const createPrivate = (pem: string) => createPrivateKey(pem.slice(pem.indexOf('-----BEGIN')));

describe('connector job handlers against adcs-sim', () => {
  let sim: AdcsSim;
  let handlers: JobHandlers;
  let adcs: AdcsOptionsWire;

  beforeAll(async () => {
    sim = await startAdcsSim({
      host: 'localhost', port: 0, domain: 'CORP', adminToken: 'connector-handlers-test-token-0123456789',
      users: [{ name: 'alice', password: PASSWORD }],
      templates: [{ cn: 'WebServer', displayName: 'Web Server', enroll: ['alice'] }, { cn: 'ManagerApproval', displayName: 'Manager Approval', enroll: ['alice'], issuance: 'manager' }],
      auth: { basic: true, ntlm: true },
    });
    adcs = { baseUrl: sim.url, username: 'alice', password: PASSWORD, domain: 'CORP', auth: 'basic', ca: sim.tlsCaPem, timeoutMs: 5000 };
    handlers = createJobHandlers();
  });
  afterAll(async () => {
    await handlers?.close();
    await sim?.stop();
  });

  it('ok/templates', async () => {
    const r = await handlers.handle({ kind: 'templates' }, adcs);
    expect(r.ok && Array.isArray(r.result) ? r.result.map((t: { name: string }) => t.name).sort() : r).toEqual(['ManagerApproval', 'WebServer']);
  });

  it('ok/submit-then-pending-then-retrieve-after-approval', async () => {
    const pair = generateKeyPair('EC-P256');
    const csrPem = pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn('CN=pending.test'), privateKey: pair.privateKey, publicKey: pair.publicKey }));
    const first = await handlers.handle({ kind: 'submit', csrPem, template: 'ManagerApproval' }, adcs);
    const pending = first.ok ? (first.result as { status: string; requestId: number }) : undefined;
    await sim.approve(pending!.requestId);
    const again = await handlers.handle({ kind: 'retrieve', requestId: pending!.requestId }, adcs);
    expect({ first: pending?.status, again: again.ok ? (again.result as { status: string }).status : again }).toEqual({ first: 'pending', again: 'issued' });
  });

  it('ok/enroll-keygen-returns-a-pkcs12-under-the-requester-password', async () => {
    const r = await handlers.handle({ kind: 'enroll-keygen', template: 'WebServer', subject: 'CN=keygen.connector.test', sans: [{ type: 'dns', value: 'keygen.connector.test' }], keyAlgorithm: 'EC-P256', password: 'requester secret' }, adcs);
    const result = r.ok ? (r.result as { status: string; requestId: number; certificatePem: string; pkcs12: string }) : undefined;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'connector-p12-'));
    const file = path.join(dir, 'out.p12');
    fs.writeFileSync(file, Buffer.from(result!.pkcs12, 'base64'));
    let keyPem: string;
    try {
      keyPem = execFileSync('openssl', ['pkcs12', '-in', file, '-passin', 'pass:requester secret', '-nocerts', '-nodes'], { encoding: 'utf8' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const cert = new X509Certificate(result!.certificatePem);
    expect({ status: result?.status, requestId: typeof result?.requestId, subject: cert.subject, keyMatches: cert.checkPrivateKey(createPrivate(keyPem)) })
      .toEqual({ status: 'issued', requestId: 'number', subject: 'CN=keygen.connector.test', keyMatches: true });
  });

  it.each([
    ['fail/no-adcs-connection', undefined, 'the job names no ADCS connection', false],
    ['fail/unreachable-adcs-is-retryable', { baseUrl: 'https://127.0.0.1:1', username: 'a', password: 'b', domain: 'CORP', auth: 'basic' as const, timeoutMs: 2000 }, '', true],
  ])('%s', async (_name, options, message, retryable) => {
    const r = await handlers.handle({ kind: 'ca-chain' }, options);
    expect(r.ok ? r : { message: message ? r.error.message : '', retryable: r.error.retryable }).toEqual({ message, retryable });
  });
});

