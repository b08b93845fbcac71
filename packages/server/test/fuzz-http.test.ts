import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCsr, generateKeyPair, parseDn, pemDecode, pemEncode } from '@certbridge/pki';
import { serverTlsCertificate } from '../src/bootstrap.ts';
import { buildApp } from '../src/http/app.ts';
import { FUZZ_SEED, HTTP_RUNS, bytesFrom, textFrom } from './fuzz-arbitraries.ts';
import { bearer, createTestEnv, type TestEnv } from './helpers.ts';
import { certRepStatus, clientIdentity, pkcsReq } from './scep-message-builder.ts';

/**
 * fast-check through `app.inject` (issue 10): damaged PKCS#10 to the REST issuance endpoint, EST
 * simpleenroll bodies (HTTPS app) and SCEP PKIOperation messages. Each answer is the protocol's own
 * error format and never a 5xx: REST `{"error":{"code",…}}` JSON with a 4xx; EST a 4xx text/plain;
 * SCEP a 4xx text/plain or a signed CertRep FAILURE. A damaged request that is still the same valid
 * request may succeed (REST 201, EST 200); the wrong SCEP challenge keeps SCEP from ever issuing.
 */
const params = { numRuns: HTTP_RUNS, seed: FUZZ_SEED, endOnFailure: true };
const csrDer = buildCsr({ subject: parseDn('CN=http-fuzz.test'), sans: [{ type: 'dns', value: 'http-fuzz.test' }], ...generateKeyPair('EC-P256') });
const csrB64 = Buffer.from(csrDer).toString('base64');
const BASIC = `Basic ${Buffer.from('fuzz:http fuzz est secret').toString('base64')}`;

describe('protocol endpoints under fast-check (PGlite)', () => {
  let env: TestEnv;
  let https: FastifyInstance;
  let scep: Uint8Array;
  beforeAll(async () => {
    env = await createTestEnv('pglite');
    const res = await env.app.inject({
      method: 'PUT', url: '/api/v1/applications/default/enrollment/default-tls', headers: bearer(env.adminToken),
      payload: { est: { enabled: true, auth: 'basic', username: 'fuzz', password: 'http fuzz est secret' }, scep: { enabled: true, staticChallenge: 'http fuzz challenge' } },
    });
    expect(res.statusCode).toBe(200);
    https = await buildApp(env.core, { publicUrl: 'https://certbridge.test', https: await serverTlsCertificate(env.core, 'https://certbridge.test') });
    scep = new Uint8Array(pkcsReq({ raCert: pemDecode(res.json().scep.raCertificate, 'CERTIFICATE'), client: clientIdentity('http-fuzz'), challenge: 'not the challenge' }));
  });
  afterAll(async () => {
    await https?.close();
    await env?.close();
  });

  it('ok/REST issuance with a damaged CSR answers 201 or a 4xx API error, never a 5xx', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(textFrom([pemEncode('CERTIFICATE REQUEST', csrDer)]), bytesFrom([csrDer]).map((d) => pemEncode('CERTIFICATE REQUEST', d))), async (csr) => {
      const res = await env.app.inject({ method: 'POST', url: '/api/v1/applications/default/certificates', headers: bearer(env.adminToken), payload: { profile: 'default-tls', csr } });
      if (res.statusCode === 201) return;
      const code = (res.json() as { error?: { code?: string } }).error?.code;
      if (res.statusCode >= 500 || res.statusCode < 400 || !code) expect.fail(`${res.statusCode} ${res.body} for ${JSON.stringify(csr)}`);
    }), params);
  });

  it('ok/EST simpleenroll with a damaged body answers 200 or a 4xx text/plain, never a 5xx', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(textFrom([csrB64]), bytesFrom([csrDer]).map((d) => Buffer.from(d).toString('base64'))), async (payload) => {
      const res = await https.inject({ method: 'POST', url: '/.well-known/est/default-tls/simpleenroll', headers: { 'content-type': 'application/pkcs10', authorization: BASIC }, payload });
      if (res.statusCode === 200) return;
      if (res.statusCode >= 500 || res.statusCode < 400 || !String(res.headers['content-type']).startsWith('text/plain')) expect.fail(`${res.statusCode} ${res.headers['content-type']} ${res.body.slice(0, 200)}`);
    }), params);
  });

  it('ok/SCEP PKIOperation with a damaged message answers a 4xx text/plain or a signed FAILURE, never a 5xx', async () => {
    await fc.assert(fc.asyncProperty(bytesFrom([scep]), async (message) => {
      const res = await env.app.inject({ method: 'POST', url: '/scep/default-tls/pkiclient.exe?operation=PKIOperation', headers: { 'content-type': 'application/x-pki-message' }, payload: Buffer.from(message) });
      const ok = res.statusCode === 200
        ? res.headers['content-type'] === 'application/x-pki-message' && certRepStatus(res.rawPayload).pkiStatus === '2'
        : res.statusCode >= 400 && res.statusCode < 500 && String(res.headers['content-type']).startsWith('text/plain');
      if (!ok) expect.fail(`${res.statusCode} ${res.headers['content-type']} ${res.body.slice(0, 200)}`);
    }), params);
  });
});
