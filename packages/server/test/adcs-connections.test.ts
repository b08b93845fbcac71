/**
 * `/api/v1/connections`: ADCS connections with sealed passwords, HTTPS only, the loud warning when
 * TLS verification is off, the test probe, RBAC, and deletion rules.
 */
import type { AdcsSim } from '@certbridge/adcs-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TLS_VERIFY_OFF_WARNING } from '../src/connections/connection-options.ts';
import { addAdcsCa, addConnection, createAdcsEnv, SIM_PASSWORD, startSim, type AdcsEnv } from './adcs-fixtures.ts';
import { bearer, ENGINES } from './helpers.ts';

describe.each(ENGINES)('ADCS connections on %s', (engine) => {
  let sim: AdcsSim;
  let env: AdcsEnv;
  beforeAll(async () => {
    sim = await startSim({ auth: { basic: true, ntlm: true, epa: 'required' } });
    env = await createAdcsEnv(engine);
  });
  afterAll(async () => {
    await env?.close();
    await sim?.stop();
  });

  it('ok/password-is-sealed-and-never-returned', async () => {
    const id = await addConnection(env, sim, 'sealed');
    const res = await env.api('GET', `/api/v1/connections/${id}`);
    expect(JSON.stringify(res.json())).not.toContain(SIM_PASSWORD);
    const row = await env.core.db.selectFrom('connections').select('password_sealed').where('id', '=', id).executeTakeFirstOrThrow();
    expect({ sealed: row.password_sealed?.startsWith('v1.'), plain: row.password_sealed?.includes(SIM_PASSWORD), passwordSet: res.json().passwordSet, warnings: res.json().warnings })
      .toEqual({ sealed: true, plain: false, passwordSet: true, warnings: [] });
  });

  it('fail/http-url-is-refused', async () => {
    const res = await env.api('POST', '/api/v1/connections', { name: 'plain-http', url: 'http://ca.corp.example/certsrv/', domain: 'CORP', username: 'alice', password: 'x', auth: 'ntlm' });
    expect({ status: res.statusCode, code: res.json().error.code, path: res.json().error.details.issues[0].path }).toEqual({ status: 400, code: 'VALIDATION_FAILED', path: 'url' });
  });

  it('ok/reject-unauthorized-off-warns-loudly', async () => {
    const res = await env.api('POST', '/api/v1/connections', { name: 'insecure', url: sim.url, domain: 'CORP', username: 'alice', password: SIM_PASSWORD, auth: 'basic', rejectUnauthorized: false });
    expect({ status: res.statusCode, rejectUnauthorized: res.json().rejectUnauthorized, warnings: res.json().warnings }).toEqual({ status: 201, rejectUnauthorized: false, warnings: [TLS_VERIFY_OFF_WARNING] });
    const probe = (await env.api('POST', `/api/v1/connections/${res.json().id}/test`)).json();
    expect({ ok: probe.ok, trusted: probe.tls.trusted, code: probe.tls.code }).toEqual({ ok: true, trusted: false, code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' });
  });

  it('ok/test-reports-epa-required-over-ntlm', async () => {
    const id = await addConnection(env, sim, 'ntlm-epa', { auth: 'ntlm' });
    const r = (await env.api('POST', `/api/v1/connections/${id}/test`)).json();
    expect({ ok: r.ok, auth: r.auth.ok, epaRequired: r.epaRequired, caName: r.caName, rtt: typeof r.roundTripMs }).toEqual({ ok: true, auth: true, epaRequired: true, caName: 'corp-SIM-CA', rtt: 'number' });
  });

  it('fail/test-with-a-wrong-password-says-auth-failed', async () => {
    const id = await addConnection(env, sim, 'wrong-password', { password: 'nope' });
    const r = (await env.api('POST', `/api/v1/connections/${id}/test`)).json();
    expect({ ok: r.ok, tls: r.tls.ok, auth: r.auth.ok, code: r.error.code }).toEqual({ ok: false, tls: true, auth: false, code: 'ADCS_AUTH_FAILED' });
  });

  it('fail/a-connection-used-by-a-ca-cannot-be-deleted', async () => {
    const id = await addConnection(env, sim, 'in-use');
    await addAdcsCa(env, 'uses-it', [id]);
    const res = await env.api('DELETE', `/api/v1/connections/${id}`);
    expect({ status: res.statusCode, cas: res.json().error.details.cas }).toEqual({ status: 409, cas: ['uses-it'] });
  });

  it('fail/an-auditor-reads-but-cannot-create', async () => {
    const admin = (await env.core.auth.authenticateToken(env.adminToken))!;
    const user = await env.core.auth.createUser(admin, { username: `auditor-${engine}`, password: 'correct horse battery staple', role: 'auditor' });
    const token = (await env.core.auth.createToken(admin, { name: 'auditor', userId: user.id })).token;
    const list = await env.app.inject({ method: 'GET', url: '/api/v1/connections', headers: bearer(token) });
    const create = await env.app.inject({ method: 'POST', url: '/api/v1/connections', headers: bearer(token), payload: { name: 'nope', url: sim.url, domain: 'CORP', username: 'a', password: 'b', auth: 'basic' } });
    expect([list.statusCode, create.statusCode, create.json().error.code]).toEqual([200, 403, 'FORBIDDEN']);
  });
});
