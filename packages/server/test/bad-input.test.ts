import { randomUUID } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { CertID, OCSPRequest, Request, TBSRequest } from '@peculiar/asn1-ocsp';
import {
  buildCsr, generateKeyPair, issuerHashes, ocspErrorResponse, parseDn, pemEncode, randomSerial, signCertificate, spkiOf, type CertificateTemplate,
} from '@certbridge/pki';
import { sql } from 'kysely';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../src/auth/principal.ts';
import { documentedRoutes } from '../src/http/route-table.ts';
import { ENGINES, bearer, createTestEnv, userWithToken, type TestEnv } from './helpers.ts';

/**
 * Issue 2 "Bad input": malformed JSON, wrong content types, oversize bodies, unknown,
 * malformed and foreign ids, broken PEM/DER and fuzzed CSR and OCSP bytes. Every answer is a
 * 4xx in the SPEC error shape (never a 500) and no table gains or loses a row.
 */

const MALFORMED_OCSP = Buffer.from(ocspErrorResponse('malformedRequest'));

/** mulberry32: a small seeded PRNG so every fuzz failure reproduces from its index. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function randomByteStrings(seed: number, count: number, maxLength: number): Buffer[] {
  const next = prng(seed);
  return Array.from({ length: count }, () => Buffer.from(Array.from({ length: 1 + Math.floor(next() * maxLength) }, () => Math.floor(next() * 256))));
}

const derOf = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');

function csrDer(cn: string): Buffer {
  const pair = generateKeyPair('EC-P256');
  return Buffer.from(buildCsr({ subject: parseDn(`CN=${cn}`), sans: [{ type: 'dns', value: cn }], privateKey: pair.privateKey, publicKey: pair.publicKey }));
}

function selfSignedPem(cn: string, isCa: boolean): { certificate: string; privateKey: string; der: Buffer } {
  const keys = generateKeyPair('EC-P256');
  const template: CertificateTemplate = {
    serialNumber: randomSerial(), subject: parseDn(`CN=${cn}`), spkiDer: spkiOf(keys.publicKey),
    notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000),
    ...(isCa ? { ca: {}, keyUsages: ['keyCertSign', 'cRLSign'] } : {}),
  };
  const der = signCertificate(template, { selfSigned: keys.privateKey });
  return { certificate: pemEncode('CERTIFICATE', der), privateKey: String(keys.privateKey.export({ type: 'pkcs8', format: 'pem' })), der: Buffer.from(der) };
}

function ocspRequestDer(caDer: Uint8Array): Buffer {
  const hashes = issuerHashes(caDer, '1.3.14.3.2.26')!;
  const certId = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: '1.3.14.3.2.26', parameters: new Uint8Array([5, 0]).buffer }),
    issuerNameHash: new OctetString(hashes.nameHash.slice().buffer),
    issuerKeyHash: new OctetString(hashes.keyHash.slice().buffer),
    serialNumber: randomSerial().slice().buffer,
  });
  return Buffer.from(AsnConvert.serialize(new OCSPRequest({ tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certId })] }) })));
}

/** What an error answer looks like: status, code, and whether the body is exactly the SPEC shape. */
function outcome(res: LightMyRequestResponse): { status: number; code?: string; shape?: boolean } {
  if (res.statusCode < 400) return { status: res.statusCode };
  let body: unknown;
  try {
    body = res.json();
  } catch {
    return { status: res.statusCode, shape: false };
  }
  const error = (body as { error?: Record<string, unknown> }).error;
  const shape = Object.keys(body as object).length === 1 && typeof error?.['code'] === 'string' && typeof error['message'] === 'string'
    && Object.keys(error).every((k) => ['code', 'message', 'details'].includes(k));
  return { status: res.statusCode, code: typeof error?.['code'] === 'string' ? error['code'] : undefined, shape };
}
const err = (status: number, code: string) => ({ status, code, shape: true });

interface Fixtures {
  env: TestEnv;
  admin: Principal;
  adminToken: string;
  memberToken: string;
  appA: string;
  appB: string;
  appBId: string;
  caId: string;
  caDer: Uint8Array;
  certA: string;
  certB: string;
  orderB: string;
  memberId: string;
}

describe.each(ENGINES)('bad input on %s', (engine) => {
  let f: Fixtures;

  /** Row count of every table of ours, to prove a refused request stored nothing. */
  async function counts(): Promise<Record<string, number>> {
    const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`.execute(f.env.core.db);
    const out: Record<string, number> = {};
    for (const { table_name: t } of tables.rows) {
      const r = await sql<{ n: string }>`select count(*) as n from ${sql.table(t)}`.execute(f.env.core.db);
      out[t] = Number(r.rows[0]!.n);
    }
    return out;
  }
  function changed(before: Record<string, number>, after: Record<string, number>): Record<string, [number, number]> {
    return Object.fromEntries(Object.keys({ ...before, ...after }).filter((t) => before[t] !== after[t]).map((t) => [t, [before[t] ?? 0, after[t] ?? 0]]));
  }
  const send = (opts: InjectOptions) => f.env.app.inject(opts);
  const issueCsr = (csr: string, token = f.adminToken) =>
    send({ method: 'POST', url: `/api/v1/applications/${f.appA}/certificates`, headers: bearer(token), payload: { profile: 'default-tls', csr } });

  beforeAll(async () => {
    const env = await createTestEnv(engine);
    const admin = (await env.core.auth.authenticateToken(env.adminToken))!;
    const member = await userWithToken(env, 'b-member', 'requester');
    const ca = (await env.core.repos.cas.find('Certbridge Intermediate CA'))!;
    await env.core.catalog.createPolicy(admin, { name: 'b-only-policy', rules: {} });
    await env.core.catalog.createProfile(admin, { slug: 'b-only', ca: ca.id, policy: 'b-only-policy' });
    await env.core.catalog.createApplication(admin, { name: 'bad-a', profiles: ['default-tls'] });
    const appB = await env.core.catalog.createApplication(admin, { name: 'bad-b', profiles: ['default-tls', 'b-only'] });
    await env.core.catalog.setMember(admin, 'bad-a', { user: member.id, role: 'requester' });
    f = { env, admin, adminToken: env.adminToken, memberToken: member.token, memberId: member.id, appA: 'bad-a', appB: 'bad-b', appBId: appB.id, caId: ca.id, caDer: ca.certificate_der!, certA: '', certB: '', orderB: '' };
    const a = await issueCsr(pemEncode('CERTIFICATE REQUEST', csrDer('a.example.test')), member.token);
    const b = await send({ method: 'POST', url: `/api/v1/applications/${f.appB}/certificates`, headers: bearer(env.adminToken), payload: { profile: 'default-tls', csr: pemEncode('CERTIFICATE REQUEST', csrDer('b.example.test')) } });
    f.certA = a.json<{ certificate: { id: string } }>().certificate.id;
    f.certB = b.json<{ certificate: { id: string } }>().certificate.id;
    f.orderB = b.json<{ order: { id: string } }>().order.id;
  });
  afterAll(async () => {
    await f?.env.core.adcs.runtime.close();
    await f?.env.close();
  });

  describe('bodies that cannot be decoded, on every route with a JSON body', () => {
    const BIG = `{"name":"${'a'.repeat(300 * 1024)}"}`;
    const CASES: { name: string; contentType?: string; payload: string; expected: ReturnType<typeof err> }[] = [
      { name: 'malformed JSON', contentType: 'application/json', payload: '{"name": ', expected: err(400, 'BAD_REQUEST') },
      { name: 'an empty JSON body', contentType: 'application/json', payload: '', expected: err(400, 'BAD_REQUEST') },
      { name: 'a JSON array', contentType: 'application/json', payload: '[1, 2]', expected: err(400, 'VALIDATION_FAILED') },
      { name: 'an unknown field', contentType: 'application/json', payload: '{"unexpected": true}', expected: err(400, 'VALIDATION_FAILED') },
      { name: 'application/xml', contentType: 'application/xml', payload: '<a/>', expected: err(415, 'UNSUPPORTED_MEDIA_TYPE') },
      { name: 'a form post', contentType: 'application/x-www-form-urlencoded', payload: 'name=x', expected: err(415, 'UNSUPPORTED_MEDIA_TYPE') },
      { name: 'JSON sent as text/plain', contentType: 'text/plain', payload: '{"name":"x"}', expected: err(400, 'VALIDATION_FAILED') },
      { name: 'a body over 256 KiB', contentType: 'application/json', payload: BIG, expected: err(413, 'PAYLOAD_TOO_LARGE') },
    ];

    it.each(CASES)('fail/$name is $expected.status $expected.code on every route, and nothing is stored', async ({ contentType, payload, expected }) => {
      // The JSON API; protocol endpoints (ACME, SCEP, EST) answer in their own error formats.
      const routes = documentedRoutes.filter((r) => r.body !== undefined && r.url.startsWith('/api/'));
      const before = await counts();
      const deviations: { route: string; got: ReturnType<typeof outcome> }[] = [];
      for (const r of routes) {
        const url = r.url.replace(/:[A-Za-z]+/g, () => randomUUID());
        const res = await send({ method: r.method as InjectOptions['method'], url, headers: { ...bearer(f.adminToken), ...(contentType ? { 'content-type': contentType } : {}) }, payload });
        const got = outcome(res);
        if (JSON.stringify(got) !== JSON.stringify(expected)) deviations.push({ route: `${r.method} ${r.url}`, got });
      }
      expect({ enoughRoutes: routes.length >= 20, deviations, changed: changed(before, await counts()) }).toEqual({ enoughRoutes: true, deviations: [], changed: {} });
    });

    it('fail/an OCSP POST over its 64 KiB limit is 413 PAYLOAD_TOO_LARGE', async () => {
      const res = await send({ method: 'POST', url: `/ocsp/${f.caId}`, headers: { 'content-type': 'application/ocsp-request' }, payload: Buffer.alloc(65 * 1024, 0x30) });
      expect(outcome(res)).toEqual(err(413, 'PAYLOAD_TOO_LARGE'));
    });
  });

  describe('unknown, malformed and foreign ids', () => {
    type Caller = 'admin' | 'member';
    interface IdCase { name: string; caller?: Caller; method: InjectOptions['method']; url(f: Fixtures): string; payload?(f: Fixtures): object; expected: ReturnType<typeof err> }
    const U = () => randomUUID();
    const csr = () => pemEncode('CERTIFICATE REQUEST', csrDer('ids.example.test'));
    const NOT_FOUND = err(404, 'NOT_FOUND');
    const MALFORMED_ID = err(400, 'BAD_REQUEST');
    const CASES: IdCase[] = [
      // unknown UUIDs
      { name: 'unknown CA', method: 'GET', url: () => `/api/v1/cas/${U()}`, expected: NOT_FOUND },
      { name: 'unknown CA (PATCH)', method: 'PATCH', url: () => `/api/v1/cas/${U()}`, payload: () => ({ status: 'disabled' }), expected: NOT_FOUND },
      { name: 'unknown CA chain', method: 'GET', url: () => `/api/v1/cas/${U()}/chain`, expected: NOT_FOUND },
      { name: 'unknown CA certificate file', method: 'GET', url: () => `/ca/${U()}.crt`, expected: NOT_FOUND },
      { name: 'unknown CA CRL', method: 'GET', url: () => `/crl/${U()}.crl`, expected: NOT_FOUND },
      { name: 'unknown parent CA', method: 'POST', url: () => '/api/v1/cas', payload: () => ({ name: 'orphan', kind: 'intermediate', parent: U(), subject: 'CN=Orphan', keyAlgorithm: 'EC-P256' }), expected: NOT_FOUND },
      { name: 'unknown policy', method: 'GET', url: () => `/api/v1/policies/${U()}`, expected: NOT_FOUND },
      { name: 'unknown policy (PATCH)', method: 'PATCH', url: () => `/api/v1/policies/${U()}`, payload: () => ({ description: 'x' }), expected: NOT_FOUND },
      { name: 'unknown profile', method: 'GET', url: () => `/api/v1/profiles/${U()}`, expected: NOT_FOUND },
      { name: 'unknown profile (PATCH)', method: 'PATCH', url: () => `/api/v1/profiles/${U()}`, payload: () => ({ name: 'x' }), expected: NOT_FOUND },
      { name: 'profile with an unknown CA', method: 'POST', url: () => '/api/v1/profiles', payload: () => ({ slug: 'no-ca', ca: U(), policy: 'b-only-policy' }), expected: NOT_FOUND },
      { name: 'profile with an unknown policy', method: 'POST', url: () => '/api/v1/profiles', payload: (x) => ({ slug: 'no-policy', ca: x.caId, policy: U() }), expected: NOT_FOUND },
      { name: 'profile moved to an unknown CA', method: 'PATCH', url: () => '/api/v1/profiles/b-only', payload: () => ({ ca: U() }), expected: NOT_FOUND },
      { name: 'unknown application', method: 'GET', url: () => `/api/v1/applications/${U()}`, expected: NOT_FOUND },
      { name: 'unknown application (PATCH)', method: 'PATCH', url: () => `/api/v1/applications/${U()}`, payload: () => ({ description: 'x' }), expected: NOT_FOUND },
      { name: 'application with an unknown profile', method: 'POST', url: () => '/api/v1/applications', payload: () => ({ name: 'no-profile', profiles: [U()] }), expected: NOT_FOUND },
      { name: 'unknown application (members)', method: 'PUT', url: () => `/api/v1/applications/${U()}/members`, payload: () => ({ user: 'b-member', role: 'viewer' }), expected: NOT_FOUND },
      { name: 'unknown member user', method: 'PUT', url: (x) => `/api/v1/applications/${x.appA}/members`, payload: () => ({ user: U(), role: 'viewer' }), expected: NOT_FOUND },
      { name: 'unknown member to remove', method: 'DELETE', url: (x) => `/api/v1/applications/${x.appA}/members/${U()}`, expected: NOT_FOUND },
      { name: 'unknown application (issue)', method: 'POST', url: () => `/api/v1/applications/${U()}/certificates`, payload: () => ({ profile: 'default-tls', csr: csr() }), expected: NOT_FOUND },
      { name: 'unknown profile (issue)', method: 'POST', url: (x) => `/api/v1/applications/${x.appA}/certificates`, payload: () => ({ profile: U(), csr: csr() }), expected: NOT_FOUND },
      { name: 'unknown user', method: 'PATCH', url: () => `/api/v1/users/${U()}`, payload: () => ({ disabled: true }), expected: NOT_FOUND },
      { name: 'token for an unknown user', method: 'POST', url: () => '/api/v1/tokens', payload: () => ({ name: 'x', userId: U() }), expected: NOT_FOUND },
      { name: 'unknown token', method: 'DELETE', url: () => `/api/v1/tokens/${U()}`, expected: NOT_FOUND },
      { name: 'unknown certificate', method: 'GET', url: () => `/api/v1/certificates/${U()}`, expected: NOT_FOUND },
      { name: 'unknown certificate (download)', method: 'GET', url: () => `/api/v1/certificates/${U()}/download`, expected: NOT_FOUND },
      { name: 'unknown certificate (PKCS#12)', method: 'POST', url: () => `/api/v1/certificates/${U()}/download`, payload: () => ({ password: 'a long passphrase' }), expected: NOT_FOUND },
      { name: 'unknown certificate (revoke)', method: 'POST', url: () => `/api/v1/certificates/${U()}/revoke`, payload: () => ({ reason: 'superseded' }), expected: NOT_FOUND },
      { name: 'unknown certificate (renew)', method: 'POST', url: () => `/api/v1/certificates/${U()}/renew`, payload: () => ({}), expected: NOT_FOUND },
      { name: 'unknown order', method: 'GET', url: () => `/api/v1/orders/${U()}`, expected: NOT_FOUND },

      // malformed ids: names where the resource has one, else 400 before any lookup
      { name: 'malformed CA id', method: 'GET', url: () => '/api/v1/cas/not-a-uuid', expected: NOT_FOUND },
      { name: 'malformed CA id (PATCH)', method: 'PATCH', url: () => '/api/v1/cas/not-a-uuid', payload: () => ({ status: 'disabled' }), expected: NOT_FOUND },
      { name: 'malformed CA CRL id', method: 'GET', url: () => '/crl/not-a-uuid.crl', expected: NOT_FOUND },
      { name: 'malformed policy id', method: 'PATCH', url: () => '/api/v1/policies/not-a-uuid', payload: () => ({ description: 'x' }), expected: NOT_FOUND },
      { name: 'malformed profile id', method: 'PATCH', url: () => '/api/v1/profiles/not-a-uuid', payload: () => ({ name: 'x' }), expected: NOT_FOUND },
      { name: 'malformed application id', method: 'POST', url: () => '/api/v1/applications/not-a-uuid/certificates', payload: () => ({ profile: 'default-tls', csr: csr() }), expected: NOT_FOUND },
      { name: 'malformed member user id', method: 'DELETE', url: (x) => `/api/v1/applications/${x.appA}/members/not-a-uuid`, expected: MALFORMED_ID },
      { name: 'malformed user id', method: 'PATCH', url: () => '/api/v1/users/not-a-uuid', payload: () => ({ disabled: true }), expected: MALFORMED_ID },
      { name: 'malformed user id in a token request', method: 'POST', url: () => '/api/v1/tokens', payload: () => ({ name: 'x', userId: 'not-a-uuid' }), expected: err(400, 'VALIDATION_FAILED') },
      { name: 'malformed token id', method: 'DELETE', url: () => '/api/v1/tokens/not-a-uuid', expected: MALFORMED_ID },
      { name: 'malformed certificate id', method: 'GET', url: () => '/api/v1/certificates/not-a-uuid', expected: MALFORMED_ID },
      { name: 'malformed certificate id (download)', method: 'GET', url: () => '/api/v1/certificates/not-a-uuid/download', expected: MALFORMED_ID },
      { name: 'malformed certificate id (PKCS#12)', method: 'POST', url: () => '/api/v1/certificates/not-a-uuid/download', payload: () => ({ password: 'a long passphrase' }), expected: MALFORMED_ID },
      { name: 'malformed certificate id (revoke)', method: 'POST', url: () => '/api/v1/certificates/not-a-uuid/revoke', payload: () => ({ reason: 'superseded' }), expected: MALFORMED_ID },
      { name: 'malformed certificate id (renew)', method: 'POST', url: () => '/api/v1/certificates/not-a-uuid/renew', payload: () => ({}), expected: MALFORMED_ID },
      { name: 'malformed order id', method: 'GET', url: () => '/api/v1/orders/not-a-uuid', expected: MALFORMED_ID },
      { name: 'malformed id filter', method: 'GET', url: () => '/api/v1/certificates?ca=not-a-uuid', expected: err(400, 'VALIDATION_FAILED') },
      { name: 'forged cursor', method: 'GET', url: () => '/api/v1/certificates?cursor=bm90LWEtY3Vyc29y', expected: err(400, 'BAD_REQUEST') },

      // ids of an application the requester is not in
      { name: "other application's detail", caller: 'member', method: 'GET', url: (x) => `/api/v1/applications/${x.appB}`, expected: NOT_FOUND },
      { name: "other application's issuance", caller: 'member', method: 'POST', url: (x) => `/api/v1/applications/${x.appB}/certificates`, payload: () => ({ profile: 'default-tls', csr: csr() }), expected: NOT_FOUND },
      { name: "other application's members", caller: 'member', method: 'PUT', url: (x) => `/api/v1/applications/${x.appB}/members`, payload: (x) => ({ user: x.memberId, role: 'owner' }), expected: NOT_FOUND },
      { name: "other application's member removal", caller: 'member', method: 'DELETE', url: (x) => `/api/v1/applications/${x.appB}/members/${x.memberId}`, expected: NOT_FOUND },
      { name: "other application's certificate", caller: 'member', method: 'GET', url: (x) => `/api/v1/certificates/${x.certB}`, expected: NOT_FOUND },
      { name: "other application's certificate (download)", caller: 'member', method: 'GET', url: (x) => `/api/v1/certificates/${x.certB}/download?format=der`, expected: NOT_FOUND },
      { name: "other application's certificate (PKCS#12)", caller: 'member', method: 'POST', url: (x) => `/api/v1/certificates/${x.certB}/download`, payload: () => ({ password: 'a long passphrase' }), expected: NOT_FOUND },
      { name: "other application's certificate (revoke)", caller: 'member', method: 'POST', url: (x) => `/api/v1/certificates/${x.certB}/revoke`, payload: () => ({ reason: 'keyCompromise' }), expected: NOT_FOUND },
      { name: "other application's certificate (renew)", caller: 'member', method: 'POST', url: (x) => `/api/v1/certificates/${x.certB}/renew`, payload: () => ({}), expected: NOT_FOUND },
      { name: "other application's order", caller: 'member', method: 'GET', url: (x) => `/api/v1/orders/${x.orderB}`, expected: NOT_FOUND },
      { name: "a profile attached only to another application", caller: 'member', method: 'POST', url: (x) => `/api/v1/applications/${x.appA}/certificates`, payload: () => ({ profile: 'b-only', csr: csr() }), expected: err(400, 'VALIDATION_FAILED') },
      { name: "a profile attached only to another application (admin)", method: 'POST', url: (x) => `/api/v1/applications/${x.appA}/certificates`, payload: () => ({ profile: 'b-only', csr: csr() }), expected: err(400, 'VALIDATION_FAILED') },
    ];

    it.each(CASES)('fail/$name is $expected.status $expected.code and stores nothing', async (c) => {
      const before = await counts();
      const res = await send({
        method: c.method, url: c.url(f), headers: bearer(c.caller === 'member' ? f.memberToken : f.adminToken),
        ...(c.payload ? { payload: c.payload(f) } : {}),
      });
      expect({ ...outcome(res), changed: changed(before, await counts()) }).toEqual({ ...c.expected, changed: {} });
    });

    it("ok/filtering the inventory by another application's id gives the requester an empty page", async () => {
      const res = await send({ method: 'GET', url: `/api/v1/certificates?application=${f.appBId}`, headers: bearer(f.memberToken) });
      expect({ status: res.statusCode, items: res.json<{ items: unknown[] }>().items }).toEqual({ status: 200, items: [] });
    });
  });

  describe('CSR parser fuzz through the API', () => {
    it('fail/a CSR truncated at every 7th byte offset is 400 MALFORMED_CSR and creates no order', async () => {
      const der = csrDer('truncated.example.test');
      const before = await counts();
      const deviations: { offset: number; got: ReturnType<typeof outcome> }[] = [];
      for (let offset = 0; offset < der.length; offset += 7) {
        const got = outcome(await issueCsr(pemEncode('CERTIFICATE REQUEST', der.subarray(0, offset))));
        if (JSON.stringify(got) !== JSON.stringify(err(400, 'MALFORMED_CSR'))) deviations.push({ offset, got });
      }
      expect({ deviations, changed: changed(before, await counts()) }).toEqual({ deviations: [], changed: {} });
    });

    it('fail/200 random byte strings (seed 0xC5B) as PEM are 400 MALFORMED_CSR', async () => {
      const before = await counts();
      const deviations: { index: number; got: ReturnType<typeof outcome> }[] = [];
      for (const [index, bytes] of randomByteStrings(0xc5b, 200, 600).entries()) {
        const got = outcome(await issueCsr(pemEncode('CERTIFICATE REQUEST', bytes)));
        if (JSON.stringify(got) !== JSON.stringify(err(400, 'MALFORMED_CSR'))) deviations.push({ index, got });
      }
      expect({ deviations, changed: changed(before, await counts()) }).toEqual({ deviations: [], changed: {} });
    });

    it('fail/200 random byte strings behind a valid DER SEQUENCE header are 400 MALFORMED_CSR', async () => {
      const deviations: { index: number; got: ReturnType<typeof outcome> }[] = [];
      for (const [index, bytes] of randomByteStrings(0x5eed, 200, 300).entries()) {
        const der = Buffer.concat([Buffer.from([0x30, 0x82, bytes.length >> 8, bytes.length & 0xff]), bytes]);
        const got = outcome(await issueCsr(pemEncode('CERTIFICATE REQUEST', der)));
        if (JSON.stringify(got) !== JSON.stringify(err(400, 'MALFORMED_CSR'))) deviations.push({ index, got });
      }
      expect(deviations).toEqual([]);
    });

    const valid = () => pemEncode('CERTIFICATE REQUEST', csrDer('garbage.example.test'));
    it.each([
      ['garbage inside the PEM armour', () => '-----BEGIN CERTIFICATE REQUEST-----\n!!not*base64$$\n-----END CERTIFICATE REQUEST-----\n'],
      ['base64 text that is not DER', () => `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.from('hello, this is not ASN.1').toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`],
      ['a PEM block with no body', () => '-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n'],
      ['a CSR without its END line', () => valid().replace(/-----END[^\n]+\n$/, '')],
      ['a CSR with a character flipped inside the base64', () => valid().replace(/\n([A-Za-z0-9+/]{10})/, (_m, s: string) => `\n${s.slice(0, 5)}*${s.slice(6)}`)],
      ['a CSR with lines of another block appended inside', () => valid().replace('-----END', 'AAAA\n-----BEGIN X-----\n-----END')],
      ['a certificate instead of a CSR', () => selfSignedPem('not-a-csr', false).certificate],
      ['plain text', () => 'this is not a certificate request'],
    ])('fail/%s is 400 MALFORMED_CSR', async (_name, make) => {
      const before = await counts();
      expect({ ...outcome(await issueCsr(make())), changed: changed(before, await counts()) }).toEqual({ ...err(400, 'MALFORMED_CSR'), changed: {} });
    });

    it('fail/a CSR whose signature was altered is 400 BAD_CSR_SIGNATURE and stores nothing', async () => {
      const der = csrDer('tampered.example.test');
      der[der.length - 5]! ^= 0x01;
      const before = await counts();
      expect({ ...outcome(await issueCsr(pemEncode('CERTIFICATE REQUEST', der))), changed: changed(before, await counts()) }).toEqual({ ...err(400, 'BAD_CSR_SIGNATURE'), changed: {} });
    });

    it('fail/renewal with a garbage CSR is 400 MALFORMED_CSR and stores nothing', async () => {
      const before = await counts();
      const res = await send({ method: 'POST', url: `/api/v1/certificates/${f.certA}/renew`, headers: bearer(f.adminToken), payload: { csr: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n' } });
      expect({ ...outcome(res), changed: changed(before, await counts()) }).toEqual({ ...err(400, 'MALFORMED_CSR'), changed: {} });
    });
  });

  describe('bad PEM and DER for CA import and bad subjects', () => {
    const GARBAGE_CERT = '-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----\n';
    const importCa = (body: object) => send({ method: 'POST', url: '/api/v1/cas/import', headers: bearer(f.adminToken), payload: { name: `imp-${randomUUID().slice(0, 8)}`, ...body } });

    it('fail/a CA certificate truncated at every 7th byte offset is 400 BAD_REQUEST and imports nothing', async () => {
      const ca = selfSignedPem('Truncated CA', true);
      const before = await counts();
      const deviations: { offset: number; got: ReturnType<typeof outcome> }[] = [];
      for (let offset = 0; offset < ca.der.length; offset += 7) {
        const got = outcome(await importCa({ certificate: pemEncode('CERTIFICATE', ca.der.subarray(0, offset)), privateKey: ca.privateKey }));
        if (JSON.stringify(got) !== JSON.stringify(err(400, 'BAD_REQUEST'))) deviations.push({ offset, got });
      }
      expect({ deviations, changed: changed(before, await counts()) }).toEqual({ deviations: [], changed: {} });
    });

    it('fail/100 random private keys (seed 0xCA) are 400 BAD_REQUEST', async () => {
      const ca = selfSignedPem('Random key CA', true);
      const deviations: { index: number; got: ReturnType<typeof outcome> }[] = [];
      for (const [index, bytes] of randomByteStrings(0xca, 100, 300).entries()) {
        const got = outcome(await importCa({ certificate: ca.certificate, privateKey: pemEncode('PRIVATE KEY', bytes) }));
        if (JSON.stringify(got) !== JSON.stringify(err(400, 'BAD_REQUEST'))) deviations.push({ index, got });
      }
      expect(deviations).toEqual([]);
    });

    it.each([
      ['garbage certificate PEM', () => ({ certificate: GARBAGE_CERT, privateKey: selfSignedPem('x', true).privateKey }), err(400, 'BAD_REQUEST')],
      ['garbage chain PEM', () => { const ca = selfSignedPem('Chain CA', true); return { certificate: ca.certificate, privateKey: ca.privateKey, chain: GARBAGE_CERT }; }, err(400, 'BAD_REQUEST')],
      ['a key that belongs to another certificate', () => ({ certificate: selfSignedPem('Mine', true).certificate, privateKey: selfSignedPem('Theirs', true).privateKey }), err(400, 'VALIDATION_FAILED')],
      ['a certificate that is not a CA', () => { const leaf = selfSignedPem('Leaf', false); return { certificate: leaf.certificate, privateKey: leaf.privateKey }; }, err(400, 'VALIDATION_FAILED')],
    ])('fail/import with %s is refused and stores nothing', async (_name, body, expected) => {
      const before = await counts();
      expect({ ...outcome(await importCa(body())), changed: changed(before, await counts()) }).toEqual({ ...expected, changed: {} });
    });

    it.each(['=', '=value', 'CN=', 'CN=a,,', 'CN=a,=b', 'NOTANATTRIBUTE=x', 'CN=a+'])('fail/a CA subject of %j is 400 and creates no CA', async (subject) => {
      const before = await counts();
      const res = await send({ method: 'POST', url: '/api/v1/cas', headers: bearer(f.adminToken), payload: { name: `subj-${randomUUID().slice(0, 8)}`, kind: 'root', subject, keyAlgorithm: 'EC-P256' } });
      expect({ ...outcome(res), changed: changed(before, await counts()) }).toEqual({ ...err(400, 'VALIDATION_FAILED'), changed: {} });
    });

    it.each(['=', '=value', 'CN=a,,', 'NOTANATTRIBUTE=x'])('fail/an ADCS subordinate subject of %j is 400 VALIDATION_FAILED and creates no CA', async (subject) => {
      const connection = await f.env.core.connections.create(f.admin, { type: 'adcs', name: `c-${randomUUID().slice(0, 8)}`, url: 'https://127.0.0.1:9/certsrv', domain: 'CORP', username: 'alice', password: 'Passw0rd!', auth: 'basic', timeoutMs: 500 });
      const parent = await f.env.core.adcs.cas.create(f.admin, { name: `adcs-${randomUUID().slice(0, 8)}`, servers: [{ connection: connection.id, priority: 1 }] });
      const before = await counts();
      const res = await send({ method: 'POST', url: `/api/v1/cas/${parent.id}/subordinates`, headers: bearer(f.adminToken), payload: { name: `sub-${randomUUID().slice(0, 8)}`, subject, keyAlgorithm: 'EC-P256' } });
      expect({ ...outcome(res), changed: changed(before, await counts()) }).toEqual({ ...err(400, 'VALIDATION_FAILED'), changed: {} });
    });

    it.each(['=', '=value', 'CN=', 'CN=a,,', 'NOTANATTRIBUTE=x', { commonName: '' }, {}])('fail/a server-keygen subject of %j is 400 VALIDATION_FAILED and creates no order', async (subject) => {
      const before = await counts();
      const res = await send({ method: 'POST', url: `/api/v1/applications/${f.appA}/certificates`, headers: bearer(f.adminToken), payload: { profile: 'default-tls', subject, sans: ['dns:x.example.test'] } });
      expect({ ...outcome(res), changed: changed(before, await counts()) }).toEqual({ ...err(400, 'VALIDATION_FAILED'), changed: {} });
    });
  });

  describe('OCSP with bytes that are not an OCSP request', () => {
    const post = (body: Buffer) => send({ method: 'POST', url: `/ocsp/${f.caId}`, headers: { 'content-type': 'application/ocsp-request' }, payload: body });
    const answer = (res: LightMyRequestResponse) => ({ status: res.statusCode, type: res.headers['content-type'], body: res.rawPayload.toString('hex') });
    const MALFORMED = { status: 200, type: 'application/ocsp-response', body: MALFORMED_OCSP.toString('hex') };

    it('ok/the malformedRequest answer is an OCSPResponse with responseStatus 1 and no responseBytes', () => {
      expect([...MALFORMED_OCSP]).toEqual([0x30, 0x03, 0x0a, 0x01, 0x01]);
    });

    it('fail/a request truncated at every byte offset gets malformedRequest', async () => {
      const der = ocspRequestDer(f.caDer);
      const deviations: { offset: number; got: ReturnType<typeof answer> }[] = [];
      for (let offset = 0; offset < der.length; offset++) {
        const got = answer(await post(der.subarray(0, offset)));
        if (JSON.stringify(got) !== JSON.stringify(MALFORMED)) deviations.push({ offset, got });
      }
      expect(deviations).toEqual([]);
    });

    it('fail/200 random bodies (seed 0x0C5B) get malformedRequest', async () => {
      const deviations: { index: number; got: ReturnType<typeof answer> }[] = [];
      for (const [index, bytes] of randomByteStrings(0x0c5b, 200, 400).entries()) {
        const got = answer(await post(bytes));
        if (JSON.stringify(got) !== JSON.stringify(MALFORMED)) deviations.push({ index, got });
      }
      expect(deviations).toEqual([]);
    });

    it('fail/100 random GET requests (seed 0x6E7) get malformedRequest', async () => {
      const deviations: { index: number; got: ReturnType<typeof answer> }[] = [];
      for (const [index, bytes] of randomByteStrings(0x6e7, 100, 200).entries()) {
        const got = answer(await send({ method: 'GET', url: `/ocsp/${f.caId}/${encodeURIComponent(bytes.toString('base64'))}` }));
        if (JSON.stringify(got) !== JSON.stringify(MALFORMED)) deviations.push({ index, got });
      }
      expect(deviations).toEqual([]);
    });

    it.each([
      ['is not base64', 'not*base64!'],
      ['carries a stray percent sign', '%25zz'],
      ['is empty', ''],
    ])('fail/a GET whose path %s gets malformedRequest', async (_name, path) => {
      expect(answer(await send({ method: 'GET', url: `/ocsp/${f.caId}/${path}` }))).toEqual(MALFORMED);
    });

    it('fail/a JSON body instead of a DER request gets malformedRequest', async () => {
      expect(answer(await send({ method: 'POST', url: `/ocsp/${f.caId}`, payload: { hello: 'world' } }))).toEqual(MALFORMED);
    });
  });

  it('fail/the CRL of a random UUID is 404 NOT_FOUND in the error shape', async () => {
    const res = await send({ method: 'GET', url: `/crl/${randomUUID()}.crl` });
    expect({ ...outcome(res), type: res.headers['content-type'] }).toEqual({ ...err(404, 'NOT_FOUND'), type: 'application/json; charset=utf-8' });
  });
});
