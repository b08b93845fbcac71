/**
 * A minimal RFC 8555 client for the ACME benchmark: one account key, flattened JWS (ES256, RFC
 * 7515/7518) signed with node:crypto, keep-alive HTTPS, the nonce of each answer reused for the
 * next request (what lego and certbot do). It drives the whole issuance of one order and reports
 * failures with the problem document. The clients share the 2 cores with the server under test,
 * so signing is a synchronous one-shot call: WebCrypto's (through jose) cost the bench process
 * about twice as much CPU per signature.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import https from 'node:https';
import { calculateJwkThumbprint, type JWK } from 'jose';

export interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

const REQUEST_TIMEOUT_MS = 30_000;

/** Loopback HTTPS with keep-alive; both servers use throwaway TLS certificates, so no trust check. */
export function httpsClient(maxSockets: number) {
  const agent = new https.Agent({ keepAlive: true, maxSockets, rejectUnauthorized: false });
  const request = (method: 'GET' | 'HEAD' | 'POST', url: string, body?: string): Promise<Answer> => new Promise((resolve, reject) => {
    request.sent++;
    const req = https.request(url, { method, agent, headers: body === undefined ? {} : { 'content-type': 'application/jose+json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => void (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`${method} ${url}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
  /** Requests sent so far (the bench reports HTTP requests per order: polls count). */
  request.sent = 0;
  return request;
}

export type Request = ReturnType<typeof httpsClient>;
type Directory = { newNonce: string; newAccount: string; newOrder: string };
type Challenge = { type: string; url: string; token: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const POLL_LIMIT_MS = 30_000;

export class BenchAcmeClient {
  private nonce: string | undefined;
  private kid: string | undefined;
  private constructor(private readonly request: Request, private readonly dir: Directory, private readonly key: { privateKey: KeyObject; jwk: JWK }, readonly thumbprint: string) {}

  /** A new account on the server of `directoryUrl` (not timed by the bench). */
  static async register(request: Request, directoryUrl: string): Promise<BenchAcmeClient> {
    const dir = JSON.parse((await request('GET', directoryUrl)).body) as Directory;
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { kty, crv, x, y } = pair.publicKey.export({ format: 'jwk' });
    const jwk: JWK = { kty: kty!, crv: crv!, x: x!, y: y! };
    const client = new BenchAcmeClient(request, dir, { privateKey: pair.privateKey, jwk }, await calculateJwkThumbprint(jwk, 'sha256'));
    const res = await client.post(dir.newAccount, { termsOfServiceAgreed: true }, true);
    if (res.status !== 201 && res.status !== 200) throw new Error(`newAccount: ${res.status} ${res.body}`);
    client.kid = String(res.headers['location']);
    return client;
  }

  /** A signed POST (payload null: POST-as-GET); a badNonce is retried once with the nonce it carries. */
  async post(url: string, payload: unknown, useJwk = false): Promise<Answer> {
    for (let attempt = 0; ; attempt++) {
      const nonce = this.nonce ?? String((await this.request('HEAD', this.dir.newNonce)).headers['replay-nonce']);
      this.nonce = undefined;
      const res = await this.request('POST', url, JSON.stringify(this.jws({ alg: 'ES256', nonce, url, ...(useJwk ? { jwk: this.key.jwk } : { kid: this.kid }) }, payload)));
      const next = res.headers['replay-nonce'];
      if (typeof next === 'string') this.nonce = next;
      if (res.status === 400 && attempt === 0 && res.body.includes('badNonce')) continue;
      return res;
    }
  }

  /** Flattened JWS JSON serialization; ES256 signatures are r || s (RFC 7518 section 3.4), not DER. */
  private jws(header: Record<string, unknown>, payload: unknown): { protected: string; payload: string; signature: string } {
    const protectedB64 = Buffer.from(JSON.stringify(header)).toString('base64url');
    const payloadB64 = payload === null ? '' : Buffer.from(JSON.stringify(payload)).toString('base64url');
    const signature = sign('sha256', Buffer.from(`${protectedB64}.${payloadB64}`), { key: this.key.privateKey, dsaEncoding: 'ieee-p1363' });
    return { protected: protectedB64, payload: payloadB64, signature: signature.toString('base64url') };
  }

  private async json<T>(url: string, payload: unknown, what: string, ok = [200]): Promise<{ body: T; headers: Answer['headers'] }> {
    const res = await this.post(url, payload);
    if (!ok.includes(res.status)) throw new Error(`${what}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
    return { body: JSON.parse(res.body) as T, headers: res.headers };
  }

  /** Polls a resource every `pollMs` until its status leaves `waiting`; a resource stuck for POLL_LIMIT_MS is an error. */
  private async until(url: string, waiting: string[], pollMs: number, what: string): Promise<Record<string, unknown>> {
    const deadline = Date.now() + POLL_LIMIT_MS;
    for (;;) {
      const { body } = await this.json<Record<string, unknown>>(url, null, what);
      if (!waiting.includes(String(body['status']))) return body;
      if (Date.now() > deadline) throw new Error(`${what} ${url} still ${String(body['status'])} after ${POLL_LIMIT_MS} ms: ${JSON.stringify(body).slice(0, 300)}`);
      await sleep(pollMs);
    }
  }

  /**
   * newOrder → authorization → http-01 answered (the key authorization is published through
   * `publish`) → authorization valid → finalize → order valid → certificate downloaded.
   */
  async issue(name: string, csrDer: Uint8Array, publish: (token: string, keyAuthorization: string) => void, pollMs: number): Promise<string> {
    const created = await this.json<{ authorizations: string[]; finalize: string }>(this.dir.newOrder, { identifiers: [{ type: 'dns', value: name }] }, 'newOrder', [201]);
    const orderUrl = String(created.headers['location']);
    for (const authzUrl of created.body.authorizations) {
      const authz = (await this.json<{ status: string; challenges: Challenge[] }>(authzUrl, null, 'authorization')).body;
      if (authz.status === 'valid') continue;
      const ch = authz.challenges.find((c) => c.type === 'http-01');
      if (!ch) throw new Error(`no http-01 challenge for ${name}`);
      publish(ch.token, `${ch.token}.${this.thumbprint}`);
      await this.json(ch.url, {}, 'challenge');
      const done = await this.until(authzUrl, ['pending'], pollMs, 'authorization');
      if (done['status'] !== 'valid') throw new Error(`authorization for ${name} is ${String(done['status'])}: ${JSON.stringify(done).slice(0, 300)}`);
    }
    const ready = await this.until(orderUrl, ['pending'], pollMs, 'order');
    if (ready['status'] !== 'ready') throw new Error(`order for ${name} is ${String(ready['status'])}`);
    const finalized = await this.json<Record<string, unknown>>(created.body.finalize, { csr: Buffer.from(csrDer).toString('base64url') }, 'finalize');
    const order = finalized.body['status'] === 'valid' ? finalized.body : await this.until(orderUrl, ['ready', 'processing'], pollMs, 'order');
    if (order['status'] !== 'valid' || typeof order['certificate'] !== 'string') throw new Error(`order for ${name} is ${String(order['status'])}`);
    const cert = await this.post(order['certificate'], null);
    if (cert.status !== 200 || !cert.body.includes('BEGIN CERTIFICATE')) throw new Error(`certificate download: HTTP ${cert.status}`);
    return cert.body;
  }
}
