import { randomBytes } from 'node:crypto';
import { pemDecode } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEnvelope } from '../src/enrollment/scep/cms-envelope.ts';
import { decodePkiMessage } from '../src/enrollment/scep/scep-message.ts';
import { ENGINES, bearer, createTestEnv, type TestEnv } from './helpers.ts';
import { AES128, DES3, certRepStatus, clientIdentity, pkcsReq } from './scep-message-builder.ts';

/**
 * SCEP bad input on the in-process app (both engines): PKIOperation bodies that are not
 * pkiMessages get HTTP 400 with a text reason, messages that parse but fail a check get a
 * signed CertRep FAILURE with the right failInfo, and thousands of mutated messages never
 * produce a 500 nor issue anything. The client side is built here with the same DER writer.
 */
const STATIC = 'scep static challenge 1';

describe.each(ENGINES)('SCEP bad input on %s', (engine) => {
  let env: TestEnv;
  let raCert: Uint8Array;
  const post = (body: Buffer, contentType = 'application/x-pki-message') =>
    env.app.inject({ method: 'POST', url: '/scep/default-tls/pkiclient.exe?operation=PKIOperation', headers: { 'content-type': contentType }, payload: body });
  const status = certRepStatus;
  const certificates = async () => Number((await env.core.db.selectFrom('certificates').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);

  beforeAll(async () => {
    env = await createTestEnv(engine);
    const res = await env.app.inject({ method: 'PUT', url: '/api/v1/applications/default/enrollment/default-tls', headers: bearer(env.adminToken), payload: { scep: { enabled: true, staticChallenge: STATIC } } });
    raCert = pemDecode(res.json().scep.raCertificate, 'CERTIFICATE');
  });
  afterAll(async () => env?.close());

  it('ok/a well-formed PKCSReq is issued (SUCCESS, RA-signed, certificate enveloped for the client)', async () => {
    const client = clientIdentity('ok');
    const res = await post(pkcsReq({ raCert, client, challenge: STATIC }));
    const rep = status(res.rawPayload);
    const inner = openEnvelope(decodePkiMessage(new Uint8Array(res.rawPayload)).envelope!, { privateKey: client.privateKey });
    expect([res.statusCode, rep.valid, rep.messageType, rep.pkiStatus, inner.cipherOid]).toEqual([200, true, 3, '0', AES128]);
  });

  it('ok/an old client enveloping with 3DES is answered with 3DES', async () => {
    const client = clientIdentity('des3');
    const res = await post(pkcsReq({ raCert, client, challenge: STATIC, cipher: DES3 }));
    const inner = openEnvelope(decodePkiMessage(new Uint8Array(res.rawPayload)).envelope!, { privateKey: client.privateKey });
    expect([status(res.rawPayload).pkiStatus, inner.cipherOid]).toEqual(['0', DES3]);
  });

  it.each([
    ['empty body', Buffer.alloc(0)],
    ['random bytes', randomBytes(300)],
    ['a DER SEQUENCE that is no ContentInfo', Buffer.from('3003020101', 'hex')],
  ])('fail/%s is HTTP 400 with a text reason', async (_name, body) => {
    const res = await post(body);
    expect([res.statusCode, res.headers['content-type']]).toEqual([400, 'text/plain; charset=utf-8']);
  });

  it('fail/a truncated pkiMessage is HTTP 400', async () => {
    const full = pkcsReq({ raCert, client: clientIdentity('trunc'), challenge: STATIC });
    const res = await post(full.subarray(0, full.length - 40));
    expect(res.statusCode).toBe(400);
  });

  it('fail/a message signed by a key other than its certificate gets FAILURE badMessageCheck', async () => {
    const before = await certificates();
    const res = await post(pkcsReq({ raCert, client: clientIdentity('victim'), challenge: STATIC, signWith: clientIdentity('attacker') }));
    expect([res.statusCode, status(res.rawPayload).pkiStatus, status(res.rawPayload).failInfo, await certificates()]).toEqual([200, '2', '1', before]);
  });

  it('fail/an envelope for another RA gets FAILURE badMessageCheck', async () => {
    const other = clientIdentity('other-ra');
    const res = await post(pkcsReq({ raCert: other.cert, client: clientIdentity('wrong-ra'), challenge: STATIC }));
    expect([status(res.rawPayload).pkiStatus, status(res.rawPayload).failInfo]).toEqual(['2', '1']);
  });

  it('fail/a missing challenge gets FAILURE badRequest', async () => {
    const res = await post(pkcsReq({ raCert, client: clientIdentity('nochallenge') }));
    expect([status(res.rawPayload).pkiStatus, status(res.rawPayload).failInfo]).toEqual(['2', '2']);
  });

  it('ok/a replayed PKCSReq (same transactionID and request) returns the same certificate and issues nothing new', async () => {
    const msg = pkcsReq({ raCert, client: clientIdentity('replay'), challenge: STATIC, transactionId: 'replay-1' });
    await post(msg);
    const before = await certificates();
    const res = await post(msg);
    expect([status(res.rawPayload).pkiStatus, await certificates()]).toEqual(['0', before]);
  });

  it('fail/GET PKIOperation with a message that is not base64 DER is HTTP 400', async () => {
    const res = await env.app.inject({ method: 'GET', url: '/scep/default-tls?operation=PKIOperation&message=%25%25%25' });
    expect(res.statusCode).toBe(400);
  });

  it('fail/an unknown operation is HTTP 400 and an unknown profile 404', async () => {
    const [op, slug] = await Promise.all([
      env.app.inject({ method: 'GET', url: '/scep/default-tls?operation=GetNothing' }),
      env.app.inject({ method: 'GET', url: '/scep/nope?operation=GetCACaps' }),
    ]);
    expect([op.statusCode, slug.statusCode]).toEqual([400, 404]);
  });

  // The parsers do not depend on the engine: thousands of cases on PGlite, a sample on PostgreSQL.
  const mutations = engine === 'pglite' ? 2000 : 300;
  it(`ok/${mutations} mutated pkiMessages never produce a 500 nor a certificate`, async () => {
    const base = pkcsReq({ raCert, client: clientIdentity('fuzz'), challenge: 'wrong challenge for fuzzing' });
    const before = await certificates();
    const statuses = new Map<number, number>();
    for (let i = 0; i < mutations; i++) {
      const mutated = Buffer.from(base);
      const flips = 1 + (i % 4);
      for (let f = 0; f < flips; f++) mutated[(i * 7919 + f * 104729) % mutated.length] ^= 1 << ((i + f) % 8);
      const body = i % 10 === 9 ? mutated.subarray(0, (i * 31) % mutated.length) : mutated;
      const res = await post(Buffer.from(body));
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    }
    expect([[...statuses.keys()].filter((s) => s !== 200 && s !== 400), await certificates()]).toEqual([[], before]);
  }, 600_000);
});
