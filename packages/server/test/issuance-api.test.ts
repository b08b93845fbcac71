import { buildCsr, generateKeyPair, parseCertificate, parseDn, pemEncode } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, bearer, createTestEnv, userWithToken, type TestEnv } from './helpers.ts';

function csrPem(cn: string, sans: { type: 'dns' | 'ip' | 'email' | 'uri' | 'upn'; value: string }[] = [], alg: 'EC-P256' | 'RSA-2048' = 'EC-P256'): string {
  const pair = generateKeyPair(alg);
  return pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn(`CN=${cn}`), sans, privateKey: pair.privateKey, publicKey: pair.publicKey }));
}

describe.each(ENGINES)('REST issuance on %s', (engine) => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv(engine);
  });
  afterAll(async () => env?.close());

  const issue = (body: unknown, token = env.adminToken, app = 'default') =>
    env.app.inject({ method: 'POST', url: `/api/v1/applications/${app}/certificates`, headers: bearer(token), payload: body as object });

  it('ok/csr is issued by the default-tls profile with the CSR subject and SANs', async () => {
    const res = await issue({ profile: 'default-tls', csr: csrPem('web.example.test', [{ type: 'dns', value: 'web.example.test' }, { type: 'ip', value: '192.0.2.7' }]) });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.order.status).toBe('issued');
    const info = parseCertificate(body.certificate.certificate);
    expect(info.subjectText).toBe('CN=web.example.test');
    expect(info.sans).toEqual([{ type: 'dns', value: 'web.example.test' }, { type: 'ip', value: '192.0.2.7' }]);
    expect(info.extendedKeyUsages).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / 86_400_000)).toBe(90);
  });

  it('ok/server-side key generation returns a certificate whose key can be downloaded as PKCS#12', async () => {
    const res = await issue({ profile: 'default-tls', subject: { commonName: 'device-1', organization: 'Example' }, sans: ['dns:device-1.example.test'], keyAlgorithm: 'RSA-2048' });
    expect(res.statusCode).toBe(201);
    const cert = res.json().certificate;
    expect(cert.hasServerGeneratedKey).toBe(true);
    expect(cert.keyAlgorithm).toBe('RSA-2048');
    const p12 = await env.app.inject({ method: 'POST', url: `/api/v1/certificates/${cert.id}/download`, headers: bearer(env.adminToken), payload: { password: 'a long passphrase' } });
    expect(p12.statusCode).toBe(200);
    expect(p12.headers['content-type']).toBe('application/x-pkcs12');
    expect(p12.rawPayload[0]).toBe(0x30);
  });

  it('fail/csr with a broken signature is refused with BAD_CSR_SIGNATURE and no order is stored', async () => {
    const pem = csrPem('tampered.example.test');
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 5] ^= 0x01;
    const before = await env.core.db.selectFrom('orders').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    const res = await issue({ profile: 'default-tls', csr: pemEncode('CERTIFICATE REQUEST', der) });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('BAD_CSR_SIGNATURE');
    const after = await env.core.db.selectFrom('orders').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });

  it('fail/policy violations are all listed', async () => {
    const admin = (await env.core.auth.authenticateToken(env.adminToken))!;
    await env.core.catalog.createPolicy(admin, { name: 'strict', rules: { sans: { allowedTypes: ['dns'], patterns: { dns: ['*.corp.example'] } }, subject: { requiredAttributes: ['O'] }, keyAlgorithms: ['EC-P256'] } });
    const ca = await env.core.repos.cas.find('Certbridge Intermediate CA');
    await env.core.catalog.createProfile(admin, { slug: 'strict-tls', ca: ca!.id, policy: 'strict' });
    await env.core.catalog.updateApplication(admin, 'default', { profiles: ['default-tls', 'strict-tls'] });
    const res = await issue({ profile: 'strict-tls', csr: csrPem('x', [{ type: 'dns', value: 'evil.example' }, { type: 'email', value: 'a@b.example' }], 'RSA-2048') });
    expect(res.statusCode).toBe(422);
    const { error } = res.json();
    expect(error.code).toBe('POLICY_VIOLATION');
    expect(error.details.violations.map((v: { field: string }) => v.field)).toEqual(['subject.O', 'sans[0]', 'sans[1]', 'key']);
  });

  it('fail/a requester outside the application gets 404 and cannot issue', async () => {
    const outsider = await userWithToken(env, `outsider-${engine}`, 'requester');
    const res = await issue({ profile: 'default-tls', csr: csrPem('x.example.test') }, outsider.token);
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });

  it('ok/a requester member issues in its application and sees only its certificates', async () => {
    const member = await userWithToken(env, `member-${engine}`, 'requester');
    const admin = (await env.core.auth.authenticateToken(env.adminToken))!;
    await env.core.catalog.setMember(admin, 'default', { user: member.id, role: 'requester' });
    const res = await issue({ profile: 'default-tls', csr: csrPem('member.example.test') }, member.token);
    expect(res.statusCode).toBe(201);
    const list = await env.app.inject({ method: 'GET', url: '/api/v1/certificates?q=member.example', headers: bearer(member.token) });
    expect(list.json().items.map((c: { subject: string }) => c.subject)).toEqual(['CN=member.example.test']);
  });

  it('ok/revocation puts the serial on the CA CRL', async () => {
    const res = await issue({ profile: 'default-tls', csr: csrPem('revoke-me.example.test') });
    const cert = res.json().certificate;
    const rev = await env.app.inject({ method: 'POST', url: `/api/v1/certificates/${cert.id}/revoke`, headers: bearer(env.adminToken), payload: { reason: 'superseded' } });
    expect(rev.statusCode).toBe(200);
    expect(rev.json().status).toBe('revoked');
    const crl = await env.app.inject({ method: 'GET', url: `/crl/${cert.caId}.crl` });
    expect(crl.statusCode).toBe(200);
    const { parseCrl } = await import('@certbridge/pki');
    expect(parseCrl(crl.rawPayload).revoked.map((r) => [r.serialHex, r.reason])).toContainEqual([cert.serial, 'superseded']);
  });
});
