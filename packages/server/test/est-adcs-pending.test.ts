import fs from 'node:fs/promises';
import path from 'node:path';
import { importPrivateKey, keyMatchesCertificate, parseCertificate, parseCertsOnlyPkcs7 } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_POLL_MIN_SECONDS } from '../src/enrollment/est/est-enrollment.ts';
import type { EstRequestsTable } from '../src/enrollment/est/est-requests.ts';
import { ADCS_PROFILE, EST_PASSWORD, EST_USER, pause, startAdcsEnrollment, type AdcsEnrollment } from './adcs-enrollment-fixtures.ts';
import { tool } from './enrollment-fixtures.ts';

/**
 * EST against an ADCS template that needs a CA manager (adcs-sim ManagerApproval), driven by curl
 * and openssl against the real server: 202 + Retry-After, approval through the sim's admin API,
 * then the same request (same PKCS#10, same client) returns the certificate (RFC 7030 section
 * 4.2.3); a denial is a 403 text answer; serverkeygen keeps the key sealed while pending and
 * hands it out once.
 */
describe('EST pending at ADCS with curl', () => {
  let a: AdcsEnrollment;
  let est: string;
  const run = (cmd: string, args: string[], input?: string) => tool(cmd, args, a.env.work, input === undefined ? {} : { input });
  const waitClientPoll = () => pause(CLIENT_POLL_MIN_SECONDS * 1000 + 300);

  async function curl(op: string, csr: Buffer) {
    const r = await run('curl', ['-sS', '-D', '-', '--cacert', path.join(a.env.dataDir, 'ca.pem'), '-u', `${EST_USER}:${EST_PASSWORD}`, '-H', 'Content-Type: application/pkcs10', '--data-binary', '@-', `${est}/${op}`], csr.toString('base64'));
    const raw = r.stdout.toString('latin1');
    const headEnd = raw.indexOf('\r\n\r\n');
    const head = raw.slice(0, headEnd).toLowerCase();
    return { status: Number(/^http\/[\d.]+ (\d{3})/.exec(head)?.[1]), headers: head, body: raw.slice(headEnd + 4) };
  }

  async function newCsr(name: string): Promise<Buffer> {
    const r = await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-subj', `/CN=${name}.corp.example.test`, '-outform', 'DER', '-out', `${name}.csr.der`]);
    if (r.code !== 0) throw new Error(r.out);
    return fs.readFile(path.join(a.env.work, `${name}.csr.der`));
  }

  /** Subject and issuer of the certificate in a base64 certs-only answer, read by openssl pkcs7 -print_certs. */
  async function printCerts(name: string, base64Body: string): Promise<string> {
    await fs.writeFile(path.join(a.env.work, `${name}.p7.der`), Buffer.from(base64Body, 'base64'));
    return (await run('openssl', ['pkcs7', '-inform', 'DER', '-in', `${name}.p7.der`, '-print_certs', '-noout'])).out.trim();
  }

  const keygenRequests = () => a.env.server.core.db.withTables<{ est_requests: EstRequestsTable }>()
    .selectFrom('est_requests').innerJoin('orders', 'orders.id', 'est_requests.order_id')
    .select(['est_requests.key_delivered_at', 'orders.server_key_sealed', 'orders.status']).where('est_requests.operation', '=', 'serverkeygen').orderBy('est_requests.created_at').execute();

  beforeAll(async () => {
    a = await startAdcsEnrollment('est-adcs');
    est = `${a.env.server.httpsUrl}/.well-known/est/${ADCS_PROFILE}`;
  }, 180_000);
  afterAll(async () => a?.close());

  it('ok/simpleenroll is 202 + Retry-After; after approval the same request returns the ADCS certificate', async () => {
    const csr = await newCsr('pend1');
    const first = await curl('simpleenroll', csr);
    const early = await curl('simpleenroll', csr);
    const approved = await a.decide(await a.latestRequestId(), 'approve');
    await waitClientPoll();
    const second = await curl('simpleenroll', csr);
    expect([first.status, Number(/retry-after: (\d+)/.exec(first.headers)?.[1]) > 0, first.body, early.status, approved]).toEqual([202, true, 'the request is waiting for CA approval; retry later\n', 202, 200]);
    expect([second.status, await printCerts('pend1', second.body)]).toEqual([200, 'subject=CN = pend1.corp.example.test\nissuer=CN = corp-SIM-CA, DC = corp, DC = example, DC = test']);
  }, 60_000);

  it('fail/a denied request is answered 403 with the reason as text, and stays denied on later retries', async () => {
    const csr = await newCsr('deny1');
    const first = await curl('simpleenroll', csr);
    const denied = await a.decide(await a.latestRequestId(), 'deny');
    await waitClientPoll();
    const second = await curl('simpleenroll', csr);
    const third = await curl('simpleenroll', csr);
    expect([first.status, denied, second.status, second.headers.includes('content-type: text/plain'), second.body.startsWith('the CA denied the request: '), third.status]).toEqual([202, 200, 403, true, true, 403]);
  }, 60_000);

  it('ok/serverkeygen pending: the key stays sealed on the order, comes back once with the certificate, and a later identical request is a new one', async () => {
    const csr = await newCsr('kg1');
    const first = await curl('serverkeygen', csr);
    const whilePending = await keygenRequests();
    await a.decide(await a.latestRequestId(), 'approve');
    await waitClientPoll();
    const second = await curl('serverkeygen', csr);
    const boundary = /content-type: multipart\/mixed; boundary=(\S+)/.exec(second.headers)?.[1];
    const parts = second.body.split(`--${boundary}`).slice(1, -1).map((p) => Buffer.from(p.split('\r\n\r\n')[1]!.replace(/\s/g, ''), 'base64'));
    const [cert] = parseCertsOnlyPkcs7(parts[1]!);
    await fs.writeFile(path.join(a.env.work, 'kg1.p8.der'), parts[0]!);
    const opensslKey = await run('openssl', ['pkey', '-inform', 'DER', '-in', 'kg1.p8.der', '-noout']);
    const third = await curl('serverkeygen', csr);
    const after = await keygenRequests();
    expect([first.status, whilePending.map((r) => [r.status, r.key_delivered_at, String(r.server_key_sealed).startsWith('v1.')])]).toEqual([202, [['pending', null, true]]]);
    expect([second.status, opensslKey.code, keyMatchesCertificate(importPrivateKey(parts[0]!), cert!), parseCertificate(cert!).issuerText]).toEqual([200, 0, true, a.adcsIssuer]);
    expect([third.status, after.map((r) => [r.status, r.key_delivered_at !== null, r.server_key_sealed === null])]).toEqual([202, [['issued', true, true], ['pending', false, false]]]);
  }, 60_000);
});

