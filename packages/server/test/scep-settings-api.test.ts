import { pemDecode } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnrollmentTables } from '../src/enrollment/settings/tables.ts';
import { movableClock } from './adcs-fixtures.ts';
import { ENGINES, bearer, createTestEnv, userWithToken, type TestEnv } from './helpers.ts';
import { certRepStatus, clientIdentity, pkcsReq } from './scep-message-builder.ts';

/**
 * The EST/SCEP enrollment settings API (`/api/v1/applications/{app}/enrollment/{profile}`) and
 * one-time SCEP challenges: who may change what, secrets sealed and never shown, challenges valid
 * once and only until they expire.
 */
describe.each(ENGINES)('enrollment settings and one-time challenges on %s', (engine) => {
  let env: TestEnv;
  const clock = movableClock();
  const url = '/api/v1/applications/default/enrollment/default-tls';
  const put = (payload: object, token = env.adminToken) => env.app.inject({ method: 'PUT', url, headers: bearer(token), payload });
  const newChallenge = (token = env.adminToken) => env.app.inject({ method: 'POST', url: `${url}/scep/challenges`, headers: bearer(token) });
  const scep = (body: Buffer) => env.app.inject({ method: 'POST', url: '/scep/default-tls?operation=PKIOperation', headers: { 'content-type': 'application/x-pki-message' }, payload: body });

  beforeAll(async () => {
    env = await createTestEnv(engine, { clock });
  });
  afterAll(async () => env?.close());

  it('ok/settings are saved, secrets sealed at rest and never returned', async () => {
    const res = await put({ est: { enabled: true, auth: 'both', username: 'dev', password: 'est password 0001' }, scep: { enabled: true, staticChallenge: 'scep static 0001' } });
    const row = await env.core.db.withTables<EnrollmentTables>().selectFrom('enrollment_settings').selectAll().executeTakeFirstOrThrow();
    const body = res.body;
    expect([res.statusCode, body.includes('est password 0001'), body.includes('scep static 0001'), String(row.est_secret_sealed).startsWith('v1.'), String(row.scep_static_sealed).startsWith('v1.')])
      .toEqual([200, false, false, true, true]);
    expect(res.json().est).toMatchObject({ enabled: true, auth: 'both', username: 'dev', hasSecret: true });
  });

  it('fail/EST with Basic authentication and no password is refused', async () => {
    await env.core.db.withTables<EnrollmentTables>().deleteFrom('enrollment_settings').execute();
    const res = await put({ est: { enabled: true, auth: 'basic' } });
    expect([res.statusCode, res.json().error.message]).toEqual([400, 'EST with Basic authentication needs a password (est.password)']);
  });

  it('fail/a requester member may not change settings but may create one-time challenges', async () => {
    await put({ scep: { enabled: true, challenge: 'dynamic', challengeTtlSeconds: 60 } });
    const member = await userWithToken(env, `enroll-member-${engine}`, 'requester');
    const admin = (await env.core.auth.authenticateToken(env.adminToken))!;
    await env.core.catalog.setMember(admin, 'default', { user: member.id, role: 'requester' });
    const [change, challenge] = [await put({ scep: { enabled: false } }, member.token), await newChallenge(member.token)];
    expect([change.statusCode, challenge.statusCode]).toEqual([403, 201]);
  });

  it('fail/a profile the application does not have is 404', async () => {
    const res = await env.app.inject({ method: 'GET', url: '/api/v1/applications/default/enrollment/not-a-profile', headers: bearer(env.adminToken) });
    expect(res.statusCode).toBe(404);
  });

  it('ok/a one-time challenge enrolls once; reused it is FAILURE badRequest', async () => {
    const raCert = pemDecode((await env.app.inject({ method: 'GET', url, headers: bearer(env.adminToken) })).json().scep.raCertificate, 'CERTIFICATE');
    const challenge = (await newChallenge()).json().challenge as string;
    const first = certRepStatus((await scep(pkcsReq({ raCert, client: clientIdentity('once'), challenge }))).rawPayload);
    const second = certRepStatus((await scep(pkcsReq({ raCert, client: clientIdentity('twice'), challenge }))).rawPayload);
    expect([first.pkiStatus, second.pkiStatus, second.failInfo]).toEqual(['0', '2', '2']);
  });

  it('fail/an expired one-time challenge is FAILURE badRequest', async () => {
    const raCert = pemDecode((await env.app.inject({ method: 'GET', url, headers: bearer(env.adminToken) })).json().scep.raCertificate, 'CERTIFICATE');
    const challenge = (await newChallenge()).json().challenge as string;
    clock.advance(61_000);
    const rep = certRepStatus((await scep(pkcsReq({ raCert, client: clientIdentity('late'), challenge }))).rawPayload);
    expect([rep.pkiStatus, rep.failInfo]).toEqual(['2', '2']);
  });

  it('fail/challenges cannot be created for a static-challenge endpoint', async () => {
    await put({ scep: { enabled: true, challenge: 'static', staticChallenge: 'scep static 0002' } });
    const res = await newChallenge();
    expect([res.statusCode, res.json().error.code]).toEqual([409, 'CONFLICT']);
  });
});
