import { buildCsr, generateKeyPair, importPrivateKey, keyMatchesCertificate, parseCertificate, parseDn } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEstEnrollment, type EstEnrollment, type EstResult } from '../src/enrollment/est/est-enrollment.ts';
import { createEstRequests, type EstRequestsTable } from '../src/enrollment/est/est-requests.ts';
import { createEnrollmentEndpoints, type Endpoint } from '../src/enrollment/settings/endpoints.ts';
import { createEnrollmentRepository } from '../src/enrollment/settings/settings-repository.ts';
import { ENGINES, bearer, createTestEnv, type TestEnv } from './helpers.ts';

/**
 * EST retries (RFC 7030 section 4.2.3) on the internal CA, both engines: a request is matched by
 * its PKCS#10 AND the client that sent it. The same client resending gets the same certificate;
 * another client sending the same PKCS#10 is a new request; a server-generated key goes out once.
 */
describe.each(ENGINES)('EST retry matching on %s', (engine) => {
  let env: TestEnv;
  let est: EstEnrollment;
  let ep: Endpoint;
  const csr = (cn: string) => {
    const pair = generateKeyPair('EC-P256');
    return buildCsr({ subject: parseDn(`CN=${cn}`), privateKey: pair.privateKey, publicKey: pair.publicKey });
  };
  const serial = (r: EstResult) => (r.status === 'issued' ? parseCertificate(r.certificateDer).serialHex : 'pending');
  const requests = () => env.core.db.withTables<{ est_requests: EstRequestsTable }>().selectFrom('est_requests').select(['client_identity', 'key_delivered_at']).orderBy('created_at').execute();

  beforeAll(async () => {
    env = await createTestEnv(engine);
    await env.app.inject({ method: 'PUT', url: '/api/v1/applications/default/enrollment/default-tls', headers: bearer(env.adminToken), payload: { est: { enabled: true, auth: 'basic', username: 'dev', password: 'est retry secret 1' } } });
    const { db, sealer, clock, repos } = env.core;
    const repo = createEnrollmentRepository(db);
    ep = await createEnrollmentEndpoints({ repo, catalog: repos.catalog, cas: repos.cas, certificates: repos.certificates, sealer, clock }).resolve('est', 'default-tls');
    est = createEstEnrollment({ issuance: env.core.issuance, requests: createEstRequests(db), certificates: repos.certificates, sealer, clock });
  });
  afterAll(async () => env?.close());

  it('ok/the same PKCS#10 from the same client is answered with the same certificate; from another client it is a new request', async () => {
    const der = csr('retry.example.test');
    const first = await est.enroll(ep, der, 'basic:dev');
    const again = await est.enroll(ep, der, 'basic:dev');
    const other = await est.enroll(ep, der, 'basic:dev cert:0f0f');
    expect([serial(again) === serial(first), serial(other) === serial(first), (await requests()).map((r) => r.client_identity)]).toEqual([true, false, ['basic:dev', 'basic:dev cert:0f0f']]);
  });

  it('ok/serverkeygen issued at once hands its key out in that answer only; the same request again gets a new key', async () => {
    const der = csr('keygen.example.test');
    const first = await est.serverKeygen(ep, der, 'basic:dev');
    const again = await est.serverKeygen(ep, der, 'basic:dev');
    const keys = [first, again].map((r) => (r.status === 'issued' && r.privateKeyPkcs8 ? keyMatchesCertificate(importPrivateKey(r.privateKeyPkcs8), r.certificateDer) : false));
    const delivered = (await requests()).slice(-2).map((r) => r.key_delivered_at !== null);
    expect([keys, serial(again) === serial(first), delivered]).toEqual([[true, true], false, [true, true]]);
  });

  it('fail/a PKCS#10 that does not parse is MALFORMED_CSR and records nothing', async () => {
    const before = (await requests()).length;
    await expect(est.serverKeygen(ep, Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00), 'basic:dev')).rejects.toMatchObject({ code: 'MALFORMED_CSR' });
    expect((await requests()).length).toBe(before);
  });
});
