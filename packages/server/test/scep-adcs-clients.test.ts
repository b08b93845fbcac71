import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseCertificate, parseCertsOnlyPkcs7, pemEncode } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEnvelope } from '../src/enrollment/scep/cms-envelope.ts';
import { CLIENT_POLL_MIN_SECONDS } from '../src/enrollment/est/est-enrollment.ts';
import { ADCS_PROFILE, SCEP_CHALLENGE, pause, startAdcsEnrollment, type AdcsEnrollment } from './adcs-enrollment-fixtures.ts';
import { requireTool, tool } from './enrollment-fixtures.ts';
import { certPoll, clientIdentity, pkcsReq } from './scep-message-builder.ts';

/**
 * SCEP against an ADCS template that needs a CA manager (adcs-sim ManagerApproval), with the real
 * clients: GetCACert carries the RA, the Certbridge chain that issued the RA and the ADCS chain;
 * micromdm's scepclient waits through PENDING (it resends its request every 30 s) until the
 * request is approved through the sim's admin API; certmonger's scep-submit answers PENDING
 * with its WAIT status, then its GetCertInitial poll gets the certificate (or, once denied,
 * REJECTED with badRequest).
 */
const SCEP_SUBMIT = '/usr/lib/certmonger/scep-submit';
const PEM_CERTS = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

describe('SCEP pending at ADCS with scepclient and certmonger', () => {
  let a: AdcsEnrollment;
  let url: string;
  const run = (cmd: string, args: string[], cwd?: string) => tool(cmd, args, cwd ?? a.env.work, { timeoutMs: 120_000 });
  const subjectOf = async (file: string) => (await run('openssl', ['x509', '-in', file, '-noout', '-subject'])).out.trim();
  const waitClientPoll = () => pause(CLIENT_POLL_MIN_SECONDS * 1000 + 300);

  /** A message for scep-submit: base64 in a PEM armour, as certmonger keeps them. */
  async function messageFile(name: string, der: Buffer): Promise<string> {
    await fs.writeFile(path.join(a.env.work, name), pemEncode('PKCS7', der));
    return name;
  }

  beforeAll(async () => {
    await requireTool('/usr/bin/scepclient', 'scep');
    await requireTool(SCEP_SUBMIT, 'certmonger');
    a = await startAdcsEnrollment('scep-adcs');
    url = `${a.env.server.httpUrl}/scep/${ADCS_PROFILE}`;
    await fs.writeFile(path.join(a.env.work, 'ra.pem'), pemEncode('CERTIFICATE', a.raCert));
    // -N: the chain that signed the RA, up to its root (certmonger trusts exactly these for the CertRep signature).
    const cas = await Promise.all(['Certbridge Intermediate CA', 'Certbridge Root CA'].map((n) => a.env.server.core.repos.cas.find(n)));
    await fs.writeFile(path.join(a.env.work, 'ra-issuer.pem'), cas.map((ca) => pemEncode('CERTIFICATE', ca!.certificate_der!)).join(''));
  }, 180_000);
  afterAll(async () => a?.close());

  it('ok/GetCACert (scep-submit -C) gives the RA, the Certbridge chain that issued it and the ADCS chain; openssl verifies the RA with it', async () => {
    const r = await run(SCEP_SUBMIT, ['-u', url, '-C']);
    const certs = r.out.match(PEM_CERTS) ?? [];
    await Promise.all(certs.map((pem, i) => fs.writeFile(path.join(a.env.work, `cacert-${i}.pem`), `${pem}\n`)));
    const [ra, ...rest] = await Promise.all(certs.map((_, i) => subjectOf(`cacert-${i}.pem`)));
    await fs.writeFile(path.join(a.env.work, 'all-cas.pem'), certs.slice(1).join('\n') + '\n');
    const verify = await run('openssl', ['verify', '-CAfile', 'all-cas.pem', 'cacert-0.pem']);
    expect([r.code, ra, rest.sort(), verify.out.trim()]).toEqual([0, `subject=O = Certbridge, CN = ${ADCS_PROFILE} SCEP RA`, [
      'subject=CN = corp-SIM-CA, DC = corp, DC = example, DC = test', 'subject=CN = corp-SIM-ROOT-CA, DC = corp, DC = example, DC = test', 'subject=O = Certbridge, CN = Certbridge Intermediate CA', 'subject=O = Certbridge, CN = Certbridge Root CA',
    ], 'cacert-0.pem: OK']);
  });

  it('ok/scepclient waits through PENDING and stores the ADCS certificate once the request is approved', async () => {
    const dir = path.join(a.env.work, 'mdm-pending');
    await fs.mkdir(dir);
    const fingerprint = createHash('sha256').update(a.raCert).digest('hex');
    const before = Number((await a.env.server.core.db.selectFrom('orders').select((eb) => eb.fn.countAll<string>().as('n')).where('ca_request_id', 'is not', null).executeTakeFirstOrThrow()).n);
    const client = run('scepclient', ['-server-url', url, '-challenge', SCEP_CHALLENGE, '-private-key', 'key.pem', '-certificate', 'cert.pem', '-cn', 'mdm-pending.corp.example.test', '-ca-fingerprint', fingerprint, '-debug'], dir);
    await a.waitForRequests(before + 1);
    const approved = await a.decide(await a.latestRequestId(), 'approve');
    const r = await client;
    const issued = parseCertificate(await fs.readFile(path.join(dir, 'cert.pem'), 'utf8'));
    const requested = (await run('openssl', ['req', '-in', 'csr.pem', '-noout', '-subject'], dir)).out.trim();
    expect([approved, r.code, /pkiStatus=PENDING/.test(r.out), /pkiStatus=SUCCESS/.test(r.out), await subjectOf(path.join(dir, 'cert.pem')), issued.issuerText]).toEqual([200, 0, true, true, requested, a.adcsIssuer]);
  }, 120_000);

  it('ok/scep-submit: PKCSReq exits WAIT (1), GetCertInitial after approval exits ISSUED (0) with the certificate enveloped for the client', async () => {
    const client = clientIdentity('cm-pending');
    const transactionId = 'cm-pending-tx';
    const req = await messageFile('cm-req.pem', pkcsReq({ raCert: a.raCert, client, challenge: SCEP_CHALLENGE, transactionId, cn: 'cm-pending.corp.example.test' }));
    const first = await run(SCEP_SUBMIT, ['-u', url, '-r', 'ra.pem', '-N', 'ra-issuer.pem', '-p', req]);
    const approved = await a.decide(await a.latestRequestId(), 'approve');
    await waitClientPoll();
    const poll = await messageFile('cm-poll.pem', certPoll({ raCert: a.raCert, client, transactionId }));
    const second = await run(SCEP_SUBMIT, ['-u', url, '-r', 'ra.pem', '-N', 'ra-issuer.pem', '-g', poll]);
    const envelope = Buffer.from(second.stdout.toString('utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const [cert] = parseCertsOnlyPkcs7(openEnvelope(new Uint8Array(envelope), { privateKey: client.privateKey }).content);
    expect([first.code, approved, second.code, parseCertificate(cert!).subjectText, parseCertificate(cert!).issuerText]).toEqual([1, 200, 0, 'CN=cm-pending.corp.example.test', a.adcsIssuer]);
  }, 60_000);

  it('fail/scep-submit: after a denial the GetCertInitial poll exits REJECTED (2) with badRequest', async () => {
    const client = clientIdentity('cm-denied');
    const transactionId = 'cm-denied-tx';
    const req = await messageFile('cm-deny-req.pem', pkcsReq({ raCert: a.raCert, client, challenge: SCEP_CHALLENGE, transactionId }));
    const first = await run(SCEP_SUBMIT, ['-u', url, '-r', 'ra.pem', '-N', 'ra-issuer.pem', '-p', req]);
    const denied = await a.decide(await a.latestRequestId(), 'deny');
    await waitClientPoll();
    const poll = await messageFile('cm-deny-poll.pem', certPoll({ raCert: a.raCert, client, transactionId }));
    const second = await run(SCEP_SUBMIT, ['-u', url, '-r', 'ra.pem', '-N', 'ra-issuer.pem', '-g', poll]);
    expect([first.code, denied, second.code, second.out.trim()]).toEqual([1, 200, 2, 'Transaction either is not permitted or is not supported by server.']);
  }, 60_000);
});
