import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { generateKeyPair, parseDn, pemEncode, randomSerial, signCertificate } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/http/app.ts';
import { startTestDnsServer, type TestDnsServer } from './acme-dns-server.ts';
import { TestAcmeClient } from './acme-test-client.ts';
import { ENGINES, createTestEnv, type TestEnv } from './helpers.ts';

const ORIGIN = 'https://certbridge.test';
const ERR = 'urn:ietf:params:acme:error:';

/** A self-signed certificate for the https redirect target (the validator does not check it). */
function selfSigned(name: string) {
  const pair = generateKeyPair('EC-P256');
  const now = Date.now();
  const der = signCertificate({
    serialNumber: randomSerial(), subject: parseDn(`CN=${name}`), spkiDer: new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' })),
    sans: [{ type: 'dns', value: name }], notBefore: new Date(now - 60_000), notAfter: new Date(now + 86_400_000), keyUsages: ['digitalSignature'],
  }, { selfSigned: pair.privateKey });
  return { cert: pemEncode('CERTIFICATE', der), key: String(pair.privateKey.export({ type: 'pkcs8', format: 'pem' })) };
}

/**
 * http-01 through redirects (RFC 8555 section 8.3 and 10.2): the challenge server answers the
 * validator with 30x to other names, to https on the port standing for 443, through chains;
 * redirects to other schemes, other ports or more than ten hops fail the challenge.
 */
describe.each(ENGINES)('ACME http-01 redirects on %s', (engine) => {
  let env: TestEnv;
  let app: FastifyInstance;
  let dns: TestDnsServer;
  let web: http.Server;
  let secure: https.Server;
  let httpPort = 0;
  let httpsPort = 0;
  /** Per token: where its challenge URL redirects (a function of the hop), or undefined to answer directly. */
  const redirects = new Map<string, (hop: number) => string | undefined>();
  const answers = new Map<string, string>();
  const seen: { scheme: string; host: string; path: string }[] = [];

  const handler = (scheme: string) => (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = req.url ?? '';
    seen.push({ scheme, host: String(req.headers.host), path: url });
    const [, kind, token = '', hopText = '0'] = /^\/(\.well-known\/acme-challenge|final|hop)\/([^/]+)(?:\/(\d+))?$/.exec(url) ?? [];
    const next = kind === 'final' ? undefined : redirects.get(token)?.(Number(hopText));
    if (next) return void res.writeHead(kind === 'hop' ? 307 : 302, { location: next }).end();
    const body = answers.get(token);
    res.writeHead(body ? 200 : 404).end(body ?? 'no such token');
  };

  beforeAll(async () => {
    env = await createTestEnv(engine);
    dns = await startTestDnsServer();
    web = http.createServer(handler('http'));
    secure = https.createServer(selfSigned('secure.redirect.test'), handler('https'));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve));
    httpPort = (web.address() as AddressInfo).port;
    httpsPort = (secure.address() as AddressInfo).port;
    app = await buildApp(env.core, { publicUrl: ORIGIN, acme: { http01Port: httpPort, tlsAlpn01Port: httpsPort, dnsResolver: dns.address, retryDelaysMs: [0], timeoutMs: 2000 } });
  });
  afterAll(async () => {
    await app?.close();
    await new Promise((r) => web?.close(r));
    await new Promise((r) => secure?.close(r));
    await dns?.close();
    await env?.close();
  });

  /** Orders the name, sets where its challenge redirects, answers it; returns the settled challenge. */
  async function validate(name: string, redirect: (token: string) => (hop: number) => string | undefined) {
    const c = await TestAcmeClient.create(app, ORIGIN, 'default-tls');
    await c.register();
    const order = (await c.newOrder([{ type: 'dns', value: name }])).json<{ authorizations: string[] }>();
    const authz = (await c.post(order.authorizations[0]!, null)).json<{ challenges: { type: string; url: string; token: string }[] }>();
    const ch = authz.challenges.find((x) => x.type === 'http-01')!;
    answers.set(ch.token, `${ch.token}.${await c.thumbprint()}`);
    redirects.set(ch.token, redirect(ch.token));
    await c.post(ch.url, {});
    await c.pollUntil(order.authorizations[0]!, ['pending']);
    const settled = (await c.post(ch.url, null)).json<{ status: string; error?: { type: string; detail: string } }>();
    return { token: ch.token, status: settled.status, error: settled.error ? [settled.error.type, settled.error.detail] : null };
  }

  it('ok/a redirect to another name on port 80 is followed (Host names the new name)', async () => {
    const r = await validate('moved.redirect.test', (token) => () => `http://elsewhere.redirect.test/final/${token}`);
    expect([r.status, r.error]).toEqual(['valid', null]);
    expect(seen.filter((s) => s.path.includes(r.token)).map((s) => [s.scheme, s.host])).toEqual([['http', 'moved.redirect.test'], ['http', 'elsewhere.redirect.test']]);
  });

  it('ok/a redirect to https on the validation port is followed without checking the self-signed certificate', async () => {
    const r = await validate('tls.redirect.test', (token) => () => `https://secure.redirect.test:${httpsPort}/final/${token}`);
    expect([r.status, r.error]).toEqual(['valid', null]);
    expect(seen.filter((s) => s.path.includes(r.token)).map((s) => s.scheme)).toEqual(['http', 'https']);
  });

  it('ok/ten redirects in a row are followed', async () => {
    const r = await validate('ten.redirect.test', (token) => (hop) => (hop < 10 ? `/hop/${token}/${hop + 1}` : undefined));
    expect([r.status, r.error, seen.filter((s) => s.path.includes(r.token)).length]).toEqual(['valid', null, 11]);
  });

  it('fail/eleven redirects are a connection problem', async () => {
    const r = await validate('eleven.redirect.test', (token) => (hop) => (hop < 11 ? `/hop/${token}/${hop + 1}` : undefined));
    expect([r.status, r.error]).toEqual(['invalid', [`${ERR}connection`, `more than 10 redirects from http://eleven.redirect.test/.well-known/acme-challenge/${r.token}`]]);
  });

  it('fail/a redirect to another scheme is refused', async () => {
    const r = await validate('ftp.redirect.test', (token) => () => `ftp://files.redirect.test/${token}`);
    expect([r.status, r.error]).toEqual(['invalid', [`${ERR}connection`, 'redirect to ftp: refused; only http and https are followed']]);
    expect(seen.filter((s) => s.path.includes(r.token)).length).toBe(1);
  });

  it('fail/a redirect to a port that is not a validation port is refused', async () => {
    const r = await validate('port.redirect.test', (token) => () => `http://port.redirect.test:8081/final/${token}`);
    expect([r.status, r.error]).toEqual(['invalid', [`${ERR}connection`, `redirect to http://port.redirect.test:8081/final/${r.token} refused: port 8081 is not the http validation port`]]);
  });

  it('fail/a redirect whose target does not answer the key authorization is incorrectResponse', async () => {
    const r = await validate('lost.redirect.test', () => () => 'http://lost.redirect.test/final/unknown-token');
    expect([r.status, r.error]).toEqual(['invalid', [`${ERR}incorrectResponse`, 'http://lost.redirect.test/final/unknown-token answered HTTP 404']]);
  });
});
