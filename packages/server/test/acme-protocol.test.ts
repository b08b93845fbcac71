import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { CompiledQuery } from 'kysely';
import { buildCsr, generateKeyPair, parseCertificate, parseDn, pemDecodeAll } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TestDnsServer } from './acme-dns-server.ts';
import { ACME_ORIGIN, startAcmeTestbed, type AcmeTestbed } from './acme-testbed.ts';
import { TestAcmeClient, type Alg } from './acme-test-client.ts';
import { ENGINES, type TestEnv } from './helpers.ts';

const ORIGIN = ACME_ORIGIN;

function csrDer(names: string[], cn = names[0]) {
  const pair = generateKeyPair('EC-P256');
  const sans = names.map((n) => (/^[\d.]+$/.test(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n }));
  return { der: buildCsr({ subject: parseDn(`CN=${cn}`), sans, privateKey: pair.privateKey, publicKey: pair.publicKey }), pair };
}

describe.each(ENGINES)('ACME protocol on %s', (engine) => {
  let bed: AcmeTestbed;
  let env: TestEnv;
  let app: FastifyInstance;
  let dns: TestDnsServer;
  let tokens: AcmeTestbed['tokens'];

  beforeAll(async () => {
    bed = await startAcmeTestbed(engine);
    ({ env, app, dns, tokens } = bed);
  });
  afterAll(async () => {
    await bed?.close();
  });

  const client = (alg: Alg = 'ES256') => TestAcmeClient.create(app, ORIGIN, 'default-tls', alg);

  /** Registers, orders the names, answers one challenge type per authorization; returns the ready order. */
  async function readyOrder(c: TestAcmeClient, names: string[], type: 'http-01' | 'dns-01' = 'http-01') {
    if (!c.kid) expect((await c.register()).status).toBe(201);
    const res = await c.newOrder(names.map((n) => ({ type: /^[\d.]+$/.test(n) ? 'ip' : 'dns', value: n })));
    expect(res.status).toBe(201);
    const orderUrl = String(res.headers['location']);
    const order = res.json<{ authorizations: string[]; finalize: string }>();
    const thumb = await c.thumbprint();
    for (const authzUrl of order.authorizations) {
      const authz = (await c.post(authzUrl, null)).json<{ identifier: { value: string }; challenges: { type: string; url: string; token: string }[] }>();
      const ch = authz.challenges.find((x) => x.type === type)!;
      const keyAuth = `${ch.token}.${thumb}`;
      if (type === 'http-01') tokens.set(ch.token, keyAuth);
      else dns.txt.set(`_acme-challenge.${authz.identifier.value}`, [createHash('sha256').update(keyAuth).digest('base64url')]);
      expect((await c.post(ch.url, {})).status).toBe(200);
      expect((await c.pollUntil(authzUrl, ['pending']))['status']).toBe('valid');
    }
    expect((await c.pollUntil(orderUrl, ['pending']))['status']).toBe('ready');
    return { orderUrl, finalize: order.finalize };
  }

  it('ok/directory names every resource and whether EAB is required', async () => {
    const c = await client();
    const dir = await c.directory();
    expect(dir).toMatchObject({
      newNonce: `${ORIGIN}/acme/default-tls/new-nonce`, newAccount: `${ORIGIN}/acme/default-tls/new-account`, newOrder: `${ORIGIN}/acme/default-tls/new-order`,
      revokeCert: `${ORIGIN}/acme/default-tls/revoke-cert`, keyChange: `${ORIGIN}/acme/default-tls/key-change`, meta: { externalAccountRequired: false },
    });
  });

  it('ok/new-nonce answers HEAD 200 and GET 204 with a fresh Replay-Nonce and no-store', async () => {
    const c = await client();
    const head = await c.request('HEAD', `${c.base}/new-nonce`);
    const get = await c.request('GET', `${c.base}/new-nonce`);
    expect([head.status, get.status]).toEqual([200, 204]);
    expect(head.headers['replay-nonce']).not.toBe(get.headers['replay-nonce']);
    expect(get.headers['cache-control']).toBe('no-store');
    expect(get.headers['link']).toBe(`<${ORIGIN}/acme/default-tls/directory>;rel="index"`);
  });

  it.each<Alg>(['ES256', 'ES384', 'RS256', 'EdDSA'])('ok/an account key of %s registers (201) and finds itself again (200, same URL)', async (alg) => {
    const c = await client(alg);
    const first = await c.register({ termsOfServiceAgreed: true, contact: ['mailto:ops@example.test'] });
    expect(first.status).toBe(201);
    expect(first.json()).toMatchObject({ status: 'valid', contact: ['mailto:ops@example.test'] });
    const again = await c.post(`${c.base}/new-account`, { onlyReturnExisting: true }, { useJwk: true });
    expect([again.status, again.headers['location']]).toEqual([200, first.headers['location']]);
  });

  it('fail/onlyReturnExisting with an unknown key is accountDoesNotExist and creates nothing', async () => {
    const c = await client();
    const res = await c.post(`${c.base}/new-account`, { onlyReturnExisting: true });
    expect([res.status, res.json()['type']]).toEqual([400, 'urn:ietf:params:acme:error:accountDoesNotExist']);
  });

  it('ok/contact update, then deactivation refuses every later request with unauthorized', async () => {
    const c = await client();
    await c.register();
    const upd = await c.post(c.kid!, { contact: ['mailto:new@example.test'] });
    expect(upd.json()['contact']).toEqual(['mailto:new@example.test']);
    expect((await c.post(c.kid!, { status: 'deactivated' })).json()['status']).toBe('deactivated');
    const after = await c.newOrder([{ type: 'dns', value: 'x.acme.test' }]);
    expect([after.status, after.json()['type']]).toEqual([403, 'urn:ietf:params:acme:error:unauthorized']);
  });

  it('fail/a tel: contact is unsupportedContact', async () => {
    const res = await (await client()).register({ contact: ['tel:+15555550100'] });
    expect([res.status, res.json()['type']]).toEqual([400, 'urn:ietf:params:acme:error:unsupportedContact']);
  });

  // The nonce statement reads the catalogue counter (request-auth-lookup.ts); the issuance core reuses
  // it (IssueContext.catalogVersion). The claim links the ACME order to the issuance order, whose own
  // write moves it to valid (migration 0020): finalize writes the ACME order once.
  it('ok/finalize asks for the catalogue counter in no statement of its own and writes the ACME order once, answering it as stored', async () => {
    const c = await client();
    const { orderUrl, finalize } = await readyOrder(c, ['counter.acme.test']);
    const csr = csrDer(['counter.acme.test']);
    // The executor every Kysely instance of the core shares (acmeDb's included).
    const spy = vi.spyOn(env.core.db.getExecutor(), 'executeQuery');
    let fin;
    let sent: string[];
    try {
      fin = await c.post(finalize, { csr: Buffer.from(csr.der).toString('base64url') });
      sent = spy.mock.calls.map(([query]) => (query as CompiledQuery).sql.trim());
    } finally {
      spy.mockRestore();
    }
    const counterQueries = sent.filter((text) => text.startsWith('select version::text as version from cache_versions')).length;
    const orderWrites = sent.filter((text) => /^update acme_orders\b/.test(text)).length;
    expect([fin.status, fin.json()['status'], counterQueries, orderWrites]).toEqual([200, 'valid', 0, 1]);
    expect((await c.post(orderUrl, null)).json()).toEqual(fin.json());
  });

  it('ok/http-01 validated for real, finalize issues, the PEM chain downloads with the leaf first', async () => {
    const c = await client();
    const { orderUrl, finalize } = await readyOrder(c, ['web.acme.test', 'www.acme.test']);
    const csr = csrDer(['web.acme.test', 'www.acme.test']);
    const fin = await c.post(finalize, { csr: Buffer.from(csr.der).toString('base64url') });
    expect(fin.status).toBe(200);
    expect(fin.json()['status']).toBe('valid');
    const order = (await c.post(orderUrl, null)).json<{ certificate: string }>();
    const pem = await c.post(order.certificate, null);
    expect(pem.headers['content-type']).toBe('application/pem-certificate-chain');
    // One chain per certificate in this model: no rel="alternate" (see acme-routes.ts, cert/:id).
    expect(pem.headers['link']).toBe(`<${ORIGIN}/acme/default-tls/directory>;rel="index"`);
    const chain = pemDecodeAll(pem.body);
    const leaf = parseCertificate(chain[0]!);
    expect(leaf.sans).toEqual([{ type: 'dns', value: 'web.acme.test' }, { type: 'dns', value: 'www.acme.test' }]);
    expect(chain.map((b) => parseCertificate(b).subjectText)).toEqual(['CN=web.acme.test', 'CN=Certbridge Intermediate CA, O=Certbridge', 'CN=Certbridge Root CA, O=Certbridge']);
    expect(dns.queries.some((q) => q.name === 'web.acme.test' && q.type === 1)).toBe(true);
  });

  it('ok/renewalInfo (ARI) suggests a window opening at two thirds of the lifetime', async () => {
    const c = await client();
    const { orderUrl, finalize } = await readyOrder(c, ['ari.acme.test']);
    await c.post(finalize, { csr: Buffer.from(csrDer(['ari.acme.test']).der).toString('base64url') });
    const certUrl = (await c.post(orderUrl, null)).json<{ certificate: string }>().certificate;
    const leaf = parseCertificate(pemDecodeAll((await c.post(certUrl, null)).body)[0]!);
    const serial = Buffer.from(leaf.serialHex.length % 2 ? `0${leaf.serialHex}` : leaf.serialHex, 'hex');
    const serialDer = serial[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), serial]) : serial;
    const certId = `${Buffer.from(leaf.authorityKeyIdentifier!, 'hex').toString('base64url')}.${serialDer.toString('base64url')}`;
    const res = await c.request('GET', `${c.base}/renewal-info/${certId}`);
    const life = leaf.notAfter.getTime() - leaf.notBefore.getTime();
    expect([res.status, res.headers['retry-after'], res.json()['suggestedWindow']]).toEqual([200, '21600', {
      start: new Date(leaf.notBefore.getTime() + (life * 2) / 3).toISOString(), end: new Date(leaf.notBefore.getTime() + (life * 3) / 4).toISOString(),
    }]);
    const unknown = await c.request('GET', `${c.base}/renewal-info/${certId.split('.')[0]}.AQID`);
    expect([unknown.status, unknown.json()['type']]).toEqual([404, 'urn:ietf:params:acme:error:malformed']);
  });

  it('ok/dns-01 through the configured resolver authorizes a wildcard', async () => {
    const c = await client();
    const { finalize } = await readyOrder(c, ['*.wild.acme.test'], 'dns-01');
    const fin = await c.post(finalize, { csr: Buffer.from(csrDer(['*.wild.acme.test']).der).toString('base64url') });
    expect(fin.json()['status']).toBe('valid');
  });

  it('ok/an IP identifier is validated by http-01 on the address itself', async () => {
    const c = await client();
    const { finalize } = await readyOrder(c, ['127.0.0.1']);
    const fin = await c.post(finalize, { csr: Buffer.from(csrDer(['127.0.0.1']).der).toString('base64url') });
    expect(fin.json()['status']).toBe('valid');
  });

  it('fail/a CSR whose names differ from the order is badCSR and the order stays ready', async () => {
    const c = await client();
    const { orderUrl, finalize } = await readyOrder(c, ['csr.acme.test']);
    const res = await c.post(finalize, { csr: Buffer.from(csrDer(['csr.acme.test', 'other.acme.test']).der).toString('base64url') });
    expect([res.status, res.json()['type']]).toEqual([400, 'urn:ietf:params:acme:error:badCSR']);
    expect((await c.post(orderUrl, null)).json()['status']).toBe('ready');
  });

  it('fail/finalize before validation is orderNotReady', async () => {
    const c = await client();
    await c.register();
    const order = (await c.newOrder([{ type: 'dns', value: 'early.acme.test' }])).json<{ finalize: string }>();
    const res = await c.post(order.finalize, { csr: Buffer.from(csrDer(['early.acme.test']).der).toString('base64url') });
    expect([res.status, res.json()['type']]).toEqual([403, 'urn:ietf:params:acme:error:orderNotReady']);
  });

  it('fail/a wrong http-01 answer makes the challenge, authorization and order invalid with incorrectResponse', async () => {
    const c = await client();
    await c.register();
    const res = await c.newOrder([{ type: 'dns', value: 'wrong.acme.test' }]);
    const order = res.json<{ authorizations: string[] }>();
    const authz = (await c.post(order.authorizations[0]!, null)).json<{ challenges: { type: string; url: string; token: string }[] }>();
    const ch = authz.challenges.find((x) => x.type === 'http-01')!;
    tokens.set(ch.token, 'not-the-key-authorization');
    await c.post(ch.url, {});
    expect((await c.pollUntil(order.authorizations[0]!, ['pending']))['status']).toBe('invalid');
    const challenge = (await c.post(ch.url, null)).json<{ status: string; error: { type: string } }>();
    expect([challenge.status, challenge.error.type]).toEqual(['invalid', 'urn:ietf:params:acme:error:incorrectResponse']);
    expect((await c.post(String(res.headers['location']), null)).json()['status']).toBe('invalid');
  });

  it('fail/unsupported identifier types and bad names are refused', async () => {
    const c = await client();
    await c.register();
    const email = await c.newOrder([{ type: 'email', value: 'a@b.test' }]);
    const bad = await c.newOrder([{ type: 'dns', value: 'under_score..test' }]);
    expect([email.json()['type'], bad.json()['type']]).toEqual(['urn:ietf:params:acme:error:unsupportedIdentifier', 'urn:ietf:params:acme:error:rejectedIdentifier']);
  });

  it('ok/the account lists its orders', async () => {
    const c = await client();
    await c.register();
    const a = await c.newOrder([{ type: 'dns', value: 'list1.acme.test' }]);
    const b = await c.newOrder([{ type: 'dns', value: 'list2.acme.test' }]);
    const list = (await c.post(`${c.kid}/orders`, null)).json<{ orders: string[] }>();
    expect(list.orders).toEqual([b.headers['location'], a.headers['location']]);
  });

  it('ok/revokeCert by the ordering account, then again is alreadyRevoked', async () => {
    const c = await client();
    const { orderUrl, finalize } = await readyOrder(c, ['revoke.acme.test']);
    await c.post(finalize, { csr: Buffer.from(csrDer(['revoke.acme.test']).der).toString('base64url') });
    const certUrl = (await c.post(orderUrl, null)).json<{ certificate: string }>().certificate;
    const der = pemDecodeAll((await c.post(certUrl, null)).body)[0]!;
    const rev = await c.post(`${c.base}/revoke-cert`, { certificate: Buffer.from(der).toString('base64url'), reason: 4 });
    expect(rev.status).toBe(200);
    const row = await env.core.db.selectFrom('certificates').select(['status', 'revocation_reason']).where('fingerprint_sha256', '=', createHash('sha256').update(der).digest('hex')).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'revoked', revocation_reason: 'superseded' });
    const again = await c.post(`${c.base}/revoke-cert`, { certificate: Buffer.from(der).toString('base64url') });
    expect(again.json()['type']).toBe('urn:ietf:params:acme:error:alreadyRevoked');
  });

  it('fail/revokeCert by an unrelated account is unauthorized', async () => {
    const owner = await client();
    const { orderUrl, finalize } = await readyOrder(owner, ['mine.acme.test']);
    await owner.post(finalize, { csr: Buffer.from(csrDer(['mine.acme.test']).der).toString('base64url') });
    const certUrl = (await owner.post(orderUrl, null)).json<{ certificate: string }>().certificate;
    const der = pemDecodeAll((await owner.post(certUrl, null)).body)[0]!;
    const other = await client();
    await other.register();
    const res = await other.post(`${other.base}/revoke-cert`, { certificate: Buffer.from(der).toString('base64url') });
    expect([res.status, res.json()['type']]).toEqual([403, 'urn:ietf:params:acme:error:unauthorized']);
  });

  it('ok/keyChange rolls the account over to a new key; the old key no longer finds it', async () => {
    const c = await client();
    await c.register();
    const oldKey = c.key;
    const newKey = await TestAcmeClient.newKey('ES256');
    const url = `${c.base}/key-change`;
    const inner = JSON.parse(await c.sign(url, { account: c.kid, oldKey: oldKey.jwk }, { nonce: null, useJwk: true }, newKey));
    const res = await c.post(url, inner);
    expect(res.status).toBe(200);
    c.key = newKey;
    expect((await c.post(c.kid!, null)).status).toBe(200);
    c.key = oldKey;
    expect((await c.post(c.kid!, null)).json()['type']).toBe('urn:ietf:params:acme:error:malformed');
  });

  it('ok/EAB HMAC keys never start with "-" (a command-line client would read such a key as an option)', async () => {
    const admin = { authorization: `Bearer ${env.adminToken}` };
    // Without the redraw one key in 64 starts with '-': 300 keys miss it with probability (63/64)^300 < 1 %.
    const keys = await Promise.all(Array.from({ length: 300 }, async () =>
      (await app.inject({ method: 'POST', url: '/api/v1/applications/default/acme/eab-keys', headers: admin, payload: {} })).json<{ hmacKey: string }>().hmacKey));
    expect(keys.filter((k) => k.startsWith('-'))).toEqual([]);
    expect(keys.every((k) => Buffer.from(k, 'base64url').length === 32)).toBe(true);
  });

  it('ok/EAB required: without binding externalAccountRequired, with a key from the API the account is created', async () => {
    const admin = { authorization: `Bearer ${env.adminToken}` };
    await app.inject({ method: 'PUT', url: '/api/v1/applications/default/acme/settings', headers: admin, payload: { eabRequired: true } });
    try {
      const c = await client();
      const refused = await c.register();
      expect([refused.status, refused.json()['type']]).toEqual([401, 'urn:ietf:params:acme:error:externalAccountRequired']);
      const key = (await app.inject({ method: 'POST', url: '/api/v1/applications/default/acme/eab-keys', headers: admin, payload: {} })).json<{ keyId: string; hmacKey: string }>();
      const { FlattenedSign } = await import('jose');
      const eab = await new FlattenedSign(new TextEncoder().encode(JSON.stringify(c.key.jwk)))
        .setProtectedHeader({ alg: 'HS256', kid: key.keyId, url: `${c.base}/new-account` }).sign(Buffer.from(key.hmacKey, 'base64url'));
      expect((await c.register({ termsOfServiceAgreed: true, externalAccountBinding: eab })).status).toBe(201);
      const reuse = await (await client()).register({ externalAccountBinding: eab });
      expect(reuse.json()['type']).toBe('urn:ietf:params:acme:error:unauthorized');
    } finally {
      await app.inject({ method: 'PUT', url: '/api/v1/applications/default/acme/settings', headers: admin, payload: { eabRequired: false } });
    }
  });
});
