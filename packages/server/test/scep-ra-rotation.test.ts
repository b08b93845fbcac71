import { pemDecode, parseCertificate, parseCertsOnlyPkcs7 } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePkiMessage } from '../src/enrollment/scep/scep-message.ts';
import { movableClock } from './adcs-fixtures.ts';
import { ENGINES, bearer, createTestEnv, type TestEnv } from './helpers.ts';
import { certRepStatus, clientIdentity, pkcsReq } from './scep-message-builder.ts';

/**
 * SCEP RA rotation (`POST …/enrollment/{profile}/scep/ra/rotate`): a new RA becomes what
 * GetCACert returns; a message still encrypted to the old RA is answered (signed by the RA it
 * was encrypted to) during the grace period, and refused with FAILURE badMessageCheck after it,
 * issuing nothing.
 */
const STATIC = 'scep rotation challenge';
const URL = '/api/v1/applications/default/enrollment/default-tls';
const HOUR_S = 3600;

describe.each(ENGINES)('SCEP RA rotation on %s', (engine) => {
  let env: TestEnv;
  const clock = movableClock();
  let oldRa: Uint8Array;
  let newRa: Uint8Array;
  const post = (body: Buffer) => env.app.inject({ method: 'POST', url: '/scep/default-tls?operation=PKIOperation', headers: { 'content-type': 'application/x-pki-message' }, payload: body });
  const rotate = (payload: object = {}) => env.app.inject({ method: 'POST', url: `${URL}/scep/ra/rotate`, headers: bearer(env.adminToken), payload });
  const certificates = async () => Number((await env.core.db.selectFrom('certificates').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
  const serial = (der: Uint8Array) => parseCertificate(der).serialHex;

  beforeAll(async () => {
    env = await createTestEnv(engine, { clock });
    const res = await env.app.inject({ method: 'PUT', url: URL, headers: bearer(env.adminToken), payload: { scep: { enabled: true, staticChallenge: STATIC } } });
    oldRa = pemDecode(res.json().scep.raCertificate, 'CERTIFICATE');
  });
  afterAll(async () => env?.close());

  it('ok/rotation issues a new RA that the settings and GetCACert show; the old one is kept sealed with its grace period', async () => {
    const res = await rotate({ graceSeconds: HOUR_S });
    newRa = pemDecode(res.json().raCertificate, 'CERTIFICATE');
    const shown = pemDecode((await env.app.inject({ method: 'GET', url: URL, headers: bearer(env.adminToken) })).json().scep.raCertificate, 'CERTIFICATE');
    const [first] = parseCertsOnlyPkcs7((await env.app.inject({ method: 'GET', url: '/scep/default-tls?operation=GetCACert' })).rawPayload);
    const retired = await env.core.db.withTables<{ scep_retired_ras: { key_sealed: string; usable_until: Date; certificate_der: Uint8Array } }>()
      .selectFrom('scep_retired_ras').selectAll().executeTakeFirstOrThrow();
    const audit = await env.core.db.selectFrom('audit_log').select(['action', 'outcome']).where('action', '=', 'scep.ra.rotate').execute();
    expect([res.statusCode, serial(newRa) !== serial(oldRa), serial(shown), serial(first!), res.json().previous.serial]).toEqual([200, true, serial(newRa), serial(newRa), serial(oldRa)]);
    expect([retired.key_sealed.startsWith('v1.'), serial(retired.certificate_der), retired.usable_until.getTime() - clock.now().getTime(), audit]).toEqual([true, serial(oldRa), HOUR_S * 1000, [{ action: 'scep.ra.rotate', outcome: 'success' }]]);
  });

  it('ok/a request encrypted to the new RA is answered, signed by the new RA', async () => {
    const res = await post(pkcsReq({ raCert: newRa, client: clientIdentity('rot-new'), challenge: STATIC }));
    const signer = decodePkiMessage(new Uint8Array(res.rawPayload)).signerCertificateDer;
    expect([certRepStatus(res.rawPayload).pkiStatus, serial(signer)]).toEqual(['0', serial(newRa)]);
  });

  it('ok/during the grace period a request encrypted to the old RA is answered, signed by the old RA', async () => {
    clock.advance((HOUR_S - 60) * 1000);
    const res = await post(pkcsReq({ raCert: oldRa, client: clientIdentity('rot-old'), challenge: STATIC }));
    const rep = certRepStatus(res.rawPayload);
    const signer = decodePkiMessage(new Uint8Array(res.rawPayload)).signerCertificateDer;
    expect([rep.valid, rep.pkiStatus, serial(signer)]).toEqual([true, '0', serial(oldRa)]);
  });

  it('fail/after the grace period a request encrypted to the old RA gets FAILURE badMessageCheck, signed by the new RA, and nothing is issued', async () => {
    clock.advance(120 * 1000);
    const before = await certificates();
    const res = await post(pkcsReq({ raCert: oldRa, client: clientIdentity('rot-late'), challenge: STATIC }));
    const rep = certRepStatus(res.rawPayload);
    const signer = decodePkiMessage(new Uint8Array(res.rawPayload)).signerCertificateDer;
    expect([res.statusCode, rep.valid, rep.pkiStatus, rep.failInfo, serial(signer), await certificates()]).toEqual([200, true, '2', '1', serial(newRa), before]);
  });

  it('fail/a grace period over 90 days is a validation error and nothing rotates', async () => {
    const res = await rotate({ graceSeconds: 91 * 86_400 });
    const shown = pemDecode((await env.app.inject({ method: 'GET', url: URL, headers: bearer(env.adminToken) })).json().scep.raCertificate, 'CERTIFICATE');
    expect([res.statusCode, res.json().error.code, serial(shown)]).toEqual([400, 'VALIDATION_FAILED', serial(newRa)]);
  });

  it('fail/a profile without SCEP has no RA to rotate (409)', async () => {
    await env.app.inject({ method: 'PUT', url: URL, headers: bearer(env.adminToken), payload: { scep: { enabled: false } } });
    const res = await rotate();
    expect([res.statusCode, res.json().error.message]).toEqual([409, 'SCEP is not enabled on profile default-tls of application default: there is no RA to rotate']);
  });
});
