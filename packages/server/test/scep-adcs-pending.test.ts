/**
 * SCEP and EST against an ADCS profile whose template needs a CA manager's approval (adcs-sim):
 * SCEP answers PENDING, then CertPoll SUCCESS once the request is approved and collected; a
 * denial is a FAILURE. EST answers 202 + Retry-After, and the same request later gets the certificate.
 */
import type { AdcsSim } from '@certbridge/adcs-sim';
import { buildCsr, generateKeyPair, parseCertsOnlyPkcs7, parseDn, pemDecode } from '@certbridge/pki';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverTlsCertificate } from '../src/bootstrap.ts';
import { buildApp } from '../src/http/app.ts';
import { addAdcsCa, addAdcsProfile, addConnection, createAdcsEnv, startSim, type AdcsEnv } from './adcs-fixtures.ts';
import { ENGINES } from './helpers.ts';
import { certPoll, certRepStatus, clientIdentity, pkcsReq } from './scep-message-builder.ts';

const HOUR = 3_600_000;
const STATIC = 'adcs scep challenge 1';

describe.each(ENGINES)('SCEP and EST pending at ADCS on %s', (engine) => {
  let sim: AdcsSim;
  let env: AdcsEnv;
  let https: FastifyInstance;
  let raCert: Uint8Array;
  const scep = (body: Buffer) => env.app.inject({ method: 'POST', url: '/scep/adcs-approval?operation=PKIOperation', headers: { 'content-type': 'application/x-pki-message' }, payload: body });
  const latestRequestId = async () => Number((await env.core.db.selectFrom('orders').select('ca_request_id').orderBy('created_at', 'desc').limit(1).executeTakeFirstOrThrow()).ca_request_id);
  /** The background poller's turn, an hour later. */
  const backgroundPoll = async () => {
    env.clock.advance(HOUR);
    await env.core.adcs.pending.runDue();
  };

  beforeAll(async () => {
    sim = await startSim();
    env = await createAdcsEnv(engine);
    const conn = await addConnection(env, sim, 'sim-basic');
    const caId = await addAdcsCa(env, 'corp-adcs', [conn]);
    await addAdcsProfile(env, 'adcs-approval', caId, 'ManagerApproval');
    const res = await env.api('PUT', '/api/v1/applications/default/enrollment/adcs-approval', { scep: { enabled: true, staticChallenge: STATIC }, est: { enabled: true, auth: 'basic', username: 'dev', password: 'est secret 1234' } });
    expect(res.statusCode).toBe(200);
    raCert = pemDecode(res.json().scep.raCertificate, 'CERTIFICATE');
    https = await buildApp(env.core, { publicUrl: 'https://certbridge.test', https: await serverTlsCertificate(env.core, 'https://certbridge.test') });
  }, 120_000);
  afterAll(async () => {
    await https?.close();
    await env?.close();
    await sim?.stop();
  });

  it('ok/PKCSReq is PENDING, CertPoll stays PENDING, then SUCCESS after approval', async () => {
    const client = clientIdentity('pending');
    const first = certRepStatus((await scep(pkcsReq({ raCert, client, challenge: STATIC, transactionId: 'tx-pending' }))).rawPayload);
    const poll1 = certRepStatus((await scep(certPoll({ raCert, client, transactionId: 'tx-pending' }))).rawPayload);
    await sim.approve(await latestRequestId());
    await backgroundPoll();
    const poll2 = certRepStatus((await scep(certPoll({ raCert, client, transactionId: 'tx-pending' }))).rawPayload);
    expect([first.pkiStatus, poll1.pkiStatus, poll2.pkiStatus, poll2.valid]).toEqual(['3', '3', '0', true]);
  });

  it('fail/a denied request answers CertPoll with FAILURE badRequest', async () => {
    const client = clientIdentity('denied');
    const first = certRepStatus((await scep(pkcsReq({ raCert, client, challenge: STATIC, transactionId: 'tx-denied' }))).rawPayload);
    sim.deny(await latestRequestId());
    await backgroundPoll();
    const poll = certRepStatus((await scep(certPoll({ raCert, client, transactionId: 'tx-denied' }))).rawPayload);
    expect([first.pkiStatus, poll.pkiStatus, poll.failInfo]).toEqual(['3', '2', '2']);
  });

  it('fail/CertPoll for an unknown transactionID is FAILURE badCertId', async () => {
    const poll = certRepStatus((await scep(certPoll({ raCert, client: clientIdentity('unknown'), transactionId: 'tx-never-sent' }))).rawPayload);
    expect([poll.pkiStatus, poll.failInfo]).toEqual(['2', '4']);
  });

  it('ok/EST simpleenroll is 202 with Retry-After, and the same request returns the certificate once approved', async () => {
    const pair = generateKeyPair('EC-P256');
    const csr = Buffer.from(buildCsr({ subject: parseDn('CN=est-pending.corp.example.test'), privateKey: pair.privateKey, publicKey: pair.publicKey })).toString('base64');
    const enroll = () => https.inject({ method: 'POST', url: '/.well-known/est/adcs-approval/simpleenroll', headers: { 'content-type': 'application/pkcs10', authorization: `Basic ${Buffer.from('dev:est secret 1234').toString('base64')}` }, payload: csr });
    const first = await enroll();
    await sim.approve(await latestRequestId());
    await backgroundPoll();
    const second = await enroll();
    const certs = parseCertsOnlyPkcs7(Buffer.from(second.body, 'base64'));
    expect([first.statusCode, Number(first.headers['retry-after']) > 0, second.statusCode, certs.length]).toEqual([202, true, 200, 1]);
  });
});
