import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorMessage, decodeFrame, serverMessage } from '@certbridge/connector/protocol';
import { buildApp } from '../src/http/app.ts';
import { decodeJws, decodePayload, importAccountKey } from '../src/enrollment/acme/jws.ts';
import { AcmeProblem } from '../src/enrollment/acme/problems.ts';
import { TestAcmeClient } from './acme-test-client.ts';
import { FUZZ_SEED, HTTP_RUNS, fuzz, fuzzParams, resolvesOrRejects, returnsOrThrows, textFrom } from './fuzz-arbitraries.ts';
import { createTestEnv, type TestEnv } from './helpers.ts';

/**
 * fast-check over the ACME JWS decoding (flattened JWS, protected header, payload, account JWK
 * import: AcmeProblem or a value), the connector's WebSocket frames in both directions (decodeFrame
 * answers `{ok}` and never throws), and ACME over HTTP: damaged JWS bodies posted to newAccount
 * and newOrder answer an RFC 7807 problem document with an ACME error type, never a 5xx.
 */
const ORIGIN = 'https://certbridge.test';
let valid: string[] = [];
let jwks: Record<string, unknown>[] = [];

const jsonMutations = (samples: string[]): fc.Arbitrary<unknown> => fc.oneof(
  textFrom(samples).map((t) => { try { return JSON.parse(t) as unknown; } catch { return t; } }),
  fc.tuple(fc.constantFrom(...samples), fc.constantFrom('protected', 'payload', 'signature', 'header', 'extra'), fc.anything()).map(([s, k, v]) => ({ ...(JSON.parse(s) as object), [k]: v })),
  fc.anything(),
);

describe('ACME JWS decoding under fast-check', () => {
  beforeAll(async () => {
    const keys = await Promise.all((['ES256', 'ES384', 'RS256', 'EdDSA'] as const).map((alg) => TestAcmeClient.newKey(alg)));
    jwks = keys.map((k) => k.jwk as Record<string, unknown>);
  });

  it('ok/decodeJws and decodePayload return or throw AcmeProblem', async () => {
    const h = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const samples = [
      JSON.stringify({ protected: h({ alg: 'ES256', nonce: 'n', url: `${ORIGIN}/acme/x/new-order`, kid: `${ORIGIN}/acme/x/acct/1` }), payload: h({ identifiers: [] }), signature: 'AAAA' }),
      JSON.stringify({ protected: h({ alg: 'RS256', nonce: 'n', url: 'u', jwk: { kty: 'RSA', n: 'AQAB', e: 'AQAB' } }), payload: '', signature: 'AAAA' }),
    ];
    await fuzz(fc.property(jsonMutations(samples), (body) => returnsOrThrows([AcmeProblem], () => {
      const { jws } = decodeJws(body);
      decodePayload(jws);
    }, body)));
  });

  it('ok/importAccountKey of damaged JWKs resolves or rejects with AcmeProblem', async () => {
    const damaged = fc.tuple(fc.constantFrom(...jwks), fc.constantFrom('kty', 'crv', 'x', 'y', 'n', 'e', 'd', 'k', 'alg'), fc.oneof(fc.string(), fc.anything(), fc.base64String())).map(([j, k, v]) => ({ ...j, [k]: v }));
    await fc.assert(fc.asyncProperty(damaged, fc.constantFrom('ES256', 'ES384', 'RS256', 'EdDSA'), (jwk, alg) => resolvesOrRejects([AcmeProblem], () => importAccountKey(jwk, alg), { jwk, alg })), fuzzParams(Math.max(200, Math.floor(fuzzParams().numRuns! / 4))));
  });
});

describe('connector frames under fast-check', () => {
  const frames = [
    { v: 1, type: 'job', id: randomUUID(), job: { kind: 'submit', csrPem: '-----BEGIN CERTIFICATE REQUEST-----', template: 'WebServer', sans: [{ type: 'dns', value: 'a.test' }] } },
    { v: 1, type: 'heartbeat-ack', at: new Date(0).toISOString() },
    { v: 1, type: 'result', id: randomUUID(), outcome: { ok: true, result: { status: 'pending', requestId: 3, dispositionMessage: 'Taken Under Submission' } } },
    { v: 1, type: 'hello', version: '0.1.0' },
  ].map((f) => JSON.stringify(f));

  it.each([['serverMessage', serverMessage], ['connectorMessage', connectorMessage]] as const)('ok/decodeFrame(%s) never throws and answers ok or a reason', async (_name, schema) => {
    await fuzz(fc.property(fc.oneof(textFrom(frames), jsonMutations(frames).map((v) => JSON.stringify(v) ?? 'undefined')), (frame) => {
      returnsOrThrows([], () => {
        const parsed = decodeFrame(schema as typeof connectorMessage, frame);
        expect(parsed.ok ? typeof parsed.message : parsed.reason.length > 0).toBeTruthy();
      }, frame);
    }));
  });
});

describe('ACME over HTTP under fast-check', () => {
  let env: TestEnv;
  let app: FastifyInstance;
  let c: TestAcmeClient;
  beforeAll(async () => {
    env = await createTestEnv('pglite');
    app = await buildApp(env.core, { publicUrl: ORIGIN, acme: { http01Port: 1, tlsAlpn01Port: 1 } });
    c = await TestAcmeClient.create(app, ORIGIN, 'default-tls');
    expect((await c.register()).status).toBe(201);
    valid = [await c.sign(`${c.base}/new-order`, { identifiers: [{ type: 'dns', value: 'fuzz.acme.test' }] }), await c.sign(`${c.base}/new-account`, { onlyReturnExisting: true }, { useJwk: true })];
  });
  afterAll(async () => {
    await app?.close();
    await env?.close();
  });

  it('ok/damaged JWS bodies to newOrder and newAccount answer an ACME problem document (or succeed), never a 5xx', async () => {
    await fc.assert(fc.asyncProperty(textFrom(valid), fc.constantFrom('new-order', 'new-account', 'revoke-cert', 'key-change'), async (body, resource) => {
      const res = await c.request('POST', `${c.base}/${resource}`, body);
      const problem = res.headers['content-type']?.toString().startsWith('application/problem+json') ? res.json<{ type: string }>() : undefined;
      // The untouched sample (or a respelling of it) is still a valid request with a fresh nonce once.
      if (res.status >= 500 || (res.status >= 400 && !problem?.type.startsWith('urn:ietf:params:acme:error:'))) expect.fail(`${res.status} ${res.body} for ${resource} body ${body}`);
    }), { numRuns: HTTP_RUNS, seed: FUZZ_SEED, endOnFailure: true });
  });
});
