import { buildCsr, generateKeyPair, parseCsr, parseDn, pemDecode } from '@certbridge/pki';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverTlsCertificate } from '../src/bootstrap.ts';
import { buildApp } from '../src/http/app.ts';
import { ENGINES, bearer, createTestEnv, type TestEnv } from './helpers.ts';
import { certRepStatus, clientIdentity, pkcsReq } from './scep-message-builder.ts';

/**
 * Light fuzzing of the EST and SCEP wire decoders (seeded, so every run replays the same cases):
 * truncated, bit-flipped, spliced and random DER, corrupted base64, wrong and missing content
 * types, oversized bodies. Every answer must be the protocol's own error (EST: 4xx text/plain;
 * SCEP: 4xx text/plain, or a signed CertRep FAILURE), never a 500, and nothing stored changes.
 */
const CONTENT_TYPES = ['application/pkcs10', 'text/plain', 'application/json', 'application/x-www-form-urlencoded', 'image/png', 'multipart/form-data; boundary=x', 'application/x-pki-message', 'application/octet-stream'];
const EST_STATUSES = [400, 401, 403, 413, 415];
const SCEP_STATUSES = [200, 400, 413, 415];
const BASIC = `Basic ${Buffer.from('fuzz:est fuzz secret 1').toString('base64')}`;

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256))) };
}

/** One mutation of `der`, chosen by the generator. */
function mutate(r: ReturnType<typeof prng>, der: Buffer): Buffer {
  const out = Buffer.from(der);
  switch (r.int(6)) {
    case 0: for (let i = 1 + r.int(4); i > 0; i--) out[r.int(out.length)]! ^= 1 << r.int(8); return out;
    case 1: return out.subarray(0, r.int(out.length));
    case 2: return Buffer.concat([out, r.bytes(1 + r.int(64))]);
    case 3: return r.bytes(r.int(600));
    case 4: { const at = r.int(out.length); return Buffer.concat([out.subarray(0, at), r.bytes(1 + r.int(8)), out.subarray(at + r.int(8))]); }
    default: out[1 + r.int(Math.min(4, out.length - 1))] = r.int(256); return out; // a length octet
  }
}

/** A base64 body around a mutated DER, sometimes corrupted as text. */
function mutateBase64(r: ReturnType<typeof prng>, der: Buffer): string {
  const b64 = mutate(r, der).toString('base64');
  switch (r.int(5)) {
    case 0: { const at = r.int(b64.length + 1); return `${b64.slice(0, at)}${'%*!-_'[r.int(5)]}${b64.slice(at)}`; }
    case 1: return b64.slice(0, Math.max(0, b64.length - 1 - r.int(3)));
    case 2: return `${b64.slice(0, b64.length >> 1)}=${b64.slice(b64.length >> 1)}`;
    default: return b64;
  }
}

/**
 * Whether a mutated EST body is still a request the server must honour: the same PKCS#10 in
 * another base64 spelling, or for serverkeygen any readable PKCS#10 (RFC 7030 section 4.4.1:
 * its key and signature are ignored), sent with a content type EST bodies are read from.
 */
function stillValid(op: string, type: string, payload: string): boolean {
  if (!['application/pkcs10', 'text/plain', 'application/octet-stream'].includes(type) || !/^[A-Za-z0-9+/]+={0,2}$/.test(payload)) return false;
  const der = Buffer.from(payload, 'base64');
  if (op === 'simpleenroll') return der.equals(csrOriginal!);
  if (op !== 'serverkeygen') return false;
  const long = der[1]! & 0x80 ? der[1]! & 0x7f : 0;
  const length = long ? [...der.subarray(2, 2 + long)].reduce((n, b) => n * 256 + b, 0) : der[1]!;
  if (2 + long + length !== der.length) return false; // bytes after the PKCS#10
  try {
    return parseCsr(der) !== undefined;
  } catch {
    return false; // not a PKCS#10: the server had to refuse it
  }
}
let csrOriginal: Buffer | undefined;

describe.each(ENGINES)('EST and SCEP fuzzing on %s', (engine) => {
  let env: TestEnv;
  let https: FastifyInstance;
  let csr: Buffer;
  let scepMessage: Buffer;
  const cases = engine === 'pglite' ? 600 : 150;

  /** Rows that any enrollment could add or change. */
  async function stored(): Promise<number[]> {
    const db = env.core.db.withTables<{ est_requests: { id: string }; scep_transactions: { order_id: string }; scep_challenges: { used_at: Date | null } }>();
    const count = async (q: { executeTakeFirstOrThrow(): Promise<{ n: string | number | bigint }> }) => Number((await q.executeTakeFirstOrThrow()).n);
    return Promise.all([
      count(db.selectFrom('orders').select((eb) => eb.fn.countAll().as('n'))),
      count(db.selectFrom('certificates').select((eb) => eb.fn.countAll().as('n'))),
      count(db.selectFrom('est_requests').select((eb) => eb.fn.countAll().as('n'))),
      count(db.selectFrom('scep_transactions').select((eb) => eb.fn.countAll().as('n'))),
      count(db.selectFrom('scep_challenges').select((eb) => eb.fn.countAll().as('n')).where('used_at', 'is not', null)),
      count(db.selectFrom('audit_log').select((eb) => eb.fn.countAll().as('n'))),
    ]);
  }

  beforeAll(async () => {
    env = await createTestEnv(engine);
    const res = await env.app.inject({
      method: 'PUT', url: '/api/v1/applications/default/enrollment/default-tls', headers: bearer(env.adminToken),
      payload: { est: { enabled: true, auth: 'basic', username: 'fuzz', password: 'est fuzz secret 1' }, scep: { enabled: true, staticChallenge: 'scep fuzz challenge' } },
    });
    https = await buildApp(env.core, { publicUrl: 'https://certbridge.test', https: await serverTlsCertificate(env.core, 'https://certbridge.test') });
    const pair = generateKeyPair('EC-P256');
    csr = Buffer.from(buildCsr({ subject: parseDn('CN=fuzz.example.test'), privateKey: pair.privateKey, publicKey: pair.publicKey }));
    csrOriginal = csr;
    // A wrong challenge: even a mutation that kept the message valid could not issue.
    scepMessage = pkcsReq({ raCert: pemDecode(res.json().scep.raCertificate, 'CERTIFICATE'), client: clientIdentity('fuzz'), challenge: 'not the fuzz challenge' });
  });
  afterAll(async () => {
    await https?.close();
    await env?.close();
  });

  it(`ok/${cases} mutated EST bodies are each answered with an EST text error, and nothing is stored`, async () => {
    const r = prng(7030);
    const bad: string[] = [];
    let accepted = 0;
    for (let i = 0; i < cases; i++) {
      const op = ['simpleenroll', 'serverkeygen', 'simplereenroll'][r.int(3)]!;
      const type = CONTENT_TYPES[r.int(CONTENT_TYPES.length)]!;
      const payload = i % 97 === 0 ? 'A'.repeat(70 * 1024) : mutateBase64(r, csr);
      const before = await stored();
      const res = await https.inject({ method: 'POST', url: `/.well-known/est/default-tls/${op}`, headers: { 'content-type': type, authorization: BASIC }, payload });
      if (res.statusCode === 200 && stillValid(op, type, payload)) {
        accepted++;
        continue;
      }
      const after = await stored();
      if (!EST_STATUSES.includes(res.statusCode) || !String(res.headers['content-type']).startsWith('text/plain') || after.join() !== before.join()) {
        bad.push(`${i} ${op} ${type}: ${res.statusCode} ${res.headers['content-type']} ${res.body.slice(0, 80)} stored ${before} -> ${after}`);
      }
    }
    // The seed makes a few mutations that are still the same request (e.g. base64 padding dropped): those are enrollments.
    expect([bad, accepted < cases / 10]).toEqual([[], true]);
  }, 600_000);

  it(`ok/${cases} mutated SCEP messages are each answered with HTTP 4xx text or a signed FAILURE, and nothing is stored`, async () => {
    const r = prng(8894);
    const before = await stored();
    const bad: string[] = [];
    for (let i = 0; i < cases; i++) {
      const type = CONTENT_TYPES[r.int(CONTENT_TYPES.length)]!;
      const viaGet = r.int(4) === 0;
      const res = viaGet
        ? await env.app.inject({ method: 'GET', url: `/scep/default-tls?operation=PKIOperation&message=${encodeURIComponent(mutateBase64(r, scepMessage))}` })
        : await env.app.inject({ method: 'POST', url: `/scep/default-tls/pkiclient.exe?operation=${i % 53 === 0 ? '' : 'PKIOperation'}`, headers: { 'content-type': type }, payload: i % 89 === 0 ? Buffer.alloc(200 * 1024) : mutate(r, scepMessage) });
      const ok = res.statusCode === 200
        ? res.headers['content-type'] === 'application/x-pki-message' && certRepStatus(res.rawPayload).pkiStatus === '2'
        : SCEP_STATUSES.includes(res.statusCode) && String(res.headers['content-type']).startsWith('text/plain');
      if (!ok) bad.push(`${i} ${viaGet ? 'GET' : `POST ${type}`}: ${res.statusCode} ${res.headers['content-type']} ${res.body.slice(0, 80)}`);
    }
    expect([bad, await stored()]).toEqual([[], before]);
  }, 600_000);
});
