import type { FastifyInstance } from 'fastify';
import { calculateJwkThumbprint, exportJWK, FlattenedSign, generateKeyPair, type CryptoKey, type JWK } from 'jose';

export type Alg = 'ES256' | 'ES384' | 'RS256' | 'EdDSA';

export interface AcmeResponse {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  json<T = Record<string, unknown>>(): T;
}

export interface SignOptions {
  nonce?: string | null;
  url?: string;
  /** Sign with the JWK in the header even when an account exists. */
  useJwk?: boolean;
  /** Put both jwk and kid in the header. */
  both?: boolean;
  alg?: string;
  contentType?: string;
  rawBody?: string;
  extraHeader?: Record<string, unknown>;
}

/** A deliberately small ACME client over `inject` for protocol tests, able to break every rule. */
export class TestAcmeClient {
  kid: string | undefined;
  lastNonce: string | undefined;
  private constructor(private app: FastifyInstance, readonly base: string, readonly origin: string, public key: { privateKey: CryptoKey; jwk: JWK; alg: Alg }) {}

  static async create(app: FastifyInstance, origin: string, slug: string, alg: Alg = 'ES256') {
    return new TestAcmeClient(app, `${origin}/acme/${slug}`, origin, await TestAcmeClient.newKey(alg));
  }

  static async newKey(alg: Alg) {
    const pair = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}), ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
    return { privateKey: pair.privateKey, jwk: await exportJWK(pair.publicKey), alg };
  }

  thumbprint = () => calculateJwkThumbprint(this.key.jwk, 'sha256');

  async request(method: 'GET' | 'HEAD' | 'POST', url: string, body?: string, contentType = 'application/jose+json'): Promise<AcmeResponse> {
    const res = await this.app.inject({ method, url: url.slice(this.origin.length), ...(body !== undefined ? { payload: body, headers: { 'content-type': contentType } } : {}) });
    const nonce = res.headers['replay-nonce'];
    if (typeof nonce === 'string') this.lastNonce = nonce;
    return { status: res.statusCode, headers: res.headers, body: res.body, json: <T>() => JSON.parse(res.body) as T };
  }

  async newNonce(): Promise<string> {
    const res = await this.request('HEAD', `${this.base}/new-nonce`);
    return String(res.headers['replay-nonce']);
  }

  async sign(url: string, payload: unknown, opts: SignOptions = {}, key = this.key): Promise<string> {
    const nonce = opts.nonce === null ? undefined : (opts.nonce ?? this.lastNonce ?? (await this.newNonce()));
    this.lastNonce = undefined;
    const header: Record<string, unknown> = { alg: opts.alg ?? key.alg, url: opts.url ?? url, ...(nonce ? { nonce } : {}), ...opts.extraHeader };
    if (opts.both || opts.useJwk || !this.kid) header['jwk'] = key.jwk;
    if (opts.both || (!opts.useJwk && this.kid)) header['kid'] = this.kid;
    const bytes = new TextEncoder().encode(payload === null ? '' : JSON.stringify(payload));
    const jws = await new FlattenedSign(bytes).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
    return JSON.stringify(jws);
  }

  async post(url: string, payload: unknown, opts: SignOptions = {}): Promise<AcmeResponse> {
    const body = opts.rawBody ?? (await this.sign(url, payload, opts));
    return this.request('POST', url, body, opts.contentType);
  }

  async directory() {
    return (await this.request('GET', `${this.base}/directory`)).json<Record<string, string>>();
  }

  async register(payload: Record<string, unknown> = { termsOfServiceAgreed: true }) {
    const res = await this.post(`${this.base}/new-account`, payload);
    if (res.status === 201 || res.status === 200) this.kid = String(res.headers['location']);
    return res;
  }

  async newOrder(identifiers: { type: string; value: string }[]) {
    return this.post(`${this.base}/new-order`, { identifiers });
  }

  /** Polls a resource (POST-as-GET) until its status leaves the given ones. */
  async pollUntil(url: string, waiting: string[], tries = 100): Promise<Record<string, unknown>> {
    for (let i = 0; i < tries; i++) {
      const res = await this.post(url, null);
      const body = res.json();
      if (!waiting.includes(String(body['status']))) return body;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${url} stayed ${waiting.join('/')}`);
  }
}
