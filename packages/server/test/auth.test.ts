import { createHash } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../src/clock.ts';
import { createCore } from '../src/core.ts';
import { createSealer } from '../src/crypto/sealer.ts';
import { openDatabase } from '../src/db/database.ts';
import { buildApp } from '../src/http/app.ts';
import { ENGINES, PKI_URL, bearer, createTestEnv, userWithToken, type TestEnv } from './helpers.ts';

/**
 * Issue 2 item 5: password login with a session cookie and CSRF protection, API tokens
 * (hashed, shown once, revocable, expiring) and login rate limiting shared through the database.
 */

const PASSWORD = 'correct horse battery staple';
const SESSION_COOKIE = 'certbridge_session';

/** A clock the tests move: everything in the env (tokens, sessions, throttling) reads it. */
function movableClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return { now: () => new Date(Date.now() + offset), advance: (ms) => { offset += ms; } };
}

const errorOf = (res: LightMyRequestResponse) => ({ status: res.statusCode, code: res.json<{ error: { code: string } }>().error.code });

/** A Certbridge instance of its own (own core, own app, own pool on PostgreSQL) on the same database. */
async function secondInstance(env: TestEnv): Promise<{ app: FastifyInstance; close(): Promise<void> }> {
  const handle = 'connectionString' in env.handle.boss ? await openDatabase({ url: env.handle.boss.connectionString }) : null;
  const core = createCore({ db: handle?.db ?? env.handle.db, sealer: createSealer(env.masterKey), pkiUrl: PKI_URL });
  const app = await buildApp(core, { publicUrl: 'https://certbridge.test' });
  return { app, close: async () => { await app.close(); await handle?.close(); } };
}

describe.each(ENGINES)('authentication on %s', (engine) => {
  let env: TestEnv;
  const clock = movableClock();
  let requester: { id: string; token: string };
  beforeAll(async () => {
    env = await createTestEnv(engine, { clock });
    requester = await userWithToken(env, 'alice', 'requester');
  });
  afterAll(async () => env?.close());

  // Each test logs in from its own address, so the per-address throttle of one test never touches another.
  const login = (username: string, password: string, remoteAddress: string, app: FastifyInstance = env.app) =>
    app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password }, remoteAddress });
  async function session(remoteAddress: string): Promise<{ cookie: string; csrf: string }> {
    const res = await login('alice', PASSWORD, remoteAddress);
    const cookie = res.cookies.find((c) => c.name === SESSION_COOKIE);
    if (res.statusCode !== 200 || !cookie) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
    return { cookie: cookie.value, csrf: res.json<{ csrfToken: string }>().csrfToken };
  }
  const withCookie = (s: { cookie: string }, extra: Record<string, string> = {}) => ({ cookie: `${SESSION_COOKIE}=${s.cookie}`, ...extra });

  describe('sessions', () => {
    it('ok/login sets an HttpOnly SameSite=Strict session cookie for / and returns the user and a CSRF token', async () => {
      const res = await login('alice', PASSWORD, '198.51.100.1');
      const cookie = res.cookies.find((c) => c.name === SESSION_COOKIE);
      const body = res.json<{ user: { username: string; role: string }; csrfToken: string }>();
      expect({
        status: res.statusCode, httpOnly: cookie?.httpOnly, sameSite: cookie?.sameSite, path: cookie?.path, maxAge: cookie?.maxAge,
        user: body.user.username, role: body.user.role, csrfLength: body.csrfToken.length, cookieIsCsrf: cookie?.value === body.csrfToken,
      }).toEqual({ status: 200, httpOnly: true, sameSite: 'Strict', path: '/', maxAge: 43_200, user: 'alice', role: 'requester', csrfLength: 32, cookieIsCsrf: false });
    });

    it('fail/a wrong password is 401 UNAUTHENTICATED and sets no cookie', async () => {
      const res = await login('alice', 'not the password', '198.51.100.2');
      expect({ ...errorOf(res), cookies: res.cookies.length }).toEqual({ status: 401, code: 'UNAUTHENTICATED', cookies: 0 });
    });

    it('fail/an unknown user is 401 UNAUTHENTICATED, the same answer as a wrong password', async () => {
      const res = await login('nobody', PASSWORD, '198.51.100.3');
      expect(res.json()).toEqual({ error: { code: 'UNAUTHENTICATED', message: 'wrong user name or password' } });
    });

    it('ok/a GET with the session cookie needs no CSRF header', async () => {
      const s = await session('198.51.100.4');
      const res = await env.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: withCookie(s) });
      expect({ status: res.statusCode, via: res.json<{ via: string }>().via }).toEqual({ status: 200, via: 'session' });
    });

    it('fail/a cookie-authenticated POST without X-CSRF-Token is 403 CSRF_FAILED and creates nothing', async () => {
      const s = await session('198.51.100.5');
      const res = await env.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: withCookie(s), payload: { name: 'csrf-missing' } });
      const stored = await env.core.db.selectFrom('api_tokens').select('id').where('name', '=', 'csrf-missing').execute();
      expect({ ...errorOf(res), stored: stored.length }).toEqual({ status: 403, code: 'CSRF_FAILED', stored: 0 });
    });

    it('fail/a cookie-authenticated POST with another session\'s CSRF token is 403 CSRF_FAILED', async () => {
      const s = await session('198.51.100.6');
      const other = await session('198.51.100.7');
      const res = await env.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: withCookie(s, { 'x-csrf-token': other.csrf }), payload: { name: 'csrf-wrong' } });
      expect(errorOf(res)).toEqual({ status: 403, code: 'CSRF_FAILED' });
    });

    it('ok/a cookie-authenticated POST with the right X-CSRF-Token succeeds', async () => {
      const s = await session('198.51.100.8');
      const res = await env.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: withCookie(s, { 'x-csrf-token': s.csrf }), payload: { name: 'csrf-right' } });
      expect({ status: res.statusCode, name: res.json<{ name: string }>().name }).toEqual({ status: 201, name: 'csrf-right' });
    });

    it('ok/logout clears the cookie and the session no longer authenticates', async () => {
      const s = await session('198.51.100.9');
      const out = await env.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: withCookie(s, { 'x-csrf-token': s.csrf }) });
      const cleared = out.cookies.find((c) => c.name === SESSION_COOKIE);
      const after = await env.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: withCookie(s) });
      expect({ logout: out.statusCode, cleared: cleared?.value, after: errorOf(after) }).toEqual({ logout: 204, cleared: '', after: { status: 401, code: 'UNAUTHENTICATED' } });
    });

    it('fail/a session cookie that was never issued is 401 UNAUTHENTICATED', async () => {
      const res = await env.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: withCookie({ cookie: 'cbs_forged' }) });
      expect(errorOf(res)).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
    });

    it('ok/a session opened on one instance authenticates on a second instance of the same database', async () => {
      const s = await session('198.51.100.10');
      const second = await secondInstance(env);
      try {
        const res = await second.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: withCookie(s) });
        expect({ status: res.statusCode, username: res.json<{ username: string }>().username }).toEqual({ status: 200, username: 'alice' });
      } finally {
        await second.close();
      }
    });
  });

  describe('API tokens', () => {
    const createToken = (body: object) => env.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: bearer(requester.token), payload: body });
    const me = (token: string) => env.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) });

    it('ok/the secret is in the creation answer and in no later answer', async () => {
      const created = (await createToken({ name: 'shown-once' })).json<{ id: string; token: string }>();
      const list = await env.app.inject({ method: 'GET', url: '/api/v1/tokens', headers: bearer(requester.token) });
      const entry = list.json<{ items: { id: string }[] }>().items.find((t) => t.id === created.id);
      expect({ secretPrefix: created.token.slice(0, 4), listed: Boolean(entry), leaked: list.body.includes(created.token), entryKeys: Object.keys(entry ?? {}).sort() })
        .toEqual({ secretPrefix: 'cbt_', listed: true, leaked: false, entryKeys: ['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'userId'] });
    });

    it('ok/the database holds the SHA-256 of the secret and the secret nowhere in api_tokens', async () => {
      const created = (await createToken({ name: 'hashed-at-rest' })).json<{ id: string; token: string }>();
      const rows = await env.core.db.selectFrom('api_tokens').selectAll().execute();
      const row = rows.find((r) => r.id === created.id);
      const secretBody = created.token.slice('cbt_'.length);
      const dump = JSON.stringify(rows);
      expect({ hash: row?.token_hash, secretInTable: dump.includes(secretBody) })
        .toEqual({ hash: createHash('sha256').update(created.token).digest('hex'), secretInTable: false });
    });

    it('ok/a new token authenticates as its user', async () => {
      const created = (await createToken({ name: 'works' })).json<{ token: string }>();
      const res = await me(created.token);
      expect({ status: res.statusCode, id: res.json<{ id: string }>().id, via: res.json<{ via: string }>().via }).toEqual({ status: 200, id: requester.id, via: 'token' });
    });

    it('fail/a revoked token is 401 UNAUTHENTICATED', async () => {
      const created = (await createToken({ name: 'revoke-me' })).json<{ id: string; token: string }>();
      const before = await me(created.token);
      const revoke = await env.app.inject({ method: 'DELETE', url: `/api/v1/tokens/${created.id}`, headers: bearer(requester.token) });
      const after = await me(created.token);
      expect({ before: before.statusCode, revoke: revoke.statusCode, after: errorOf(after) }).toEqual({ before: 200, revoke: 204, after: { status: 401, code: 'UNAUTHENTICATED' } });
    });

    it('fail/a token past its expiry is 401 UNAUTHENTICATED (and worked before)', async () => {
      const expiresAt = new Date(clock.now().getTime() + 3600_000).toISOString();
      const created = (await createToken({ name: 'expires', expiresAt })).json<{ token: string }>();
      const before = await me(created.token);
      clock.advance(3600_000 + 1000);
      try {
        const after = await me(created.token);
        expect({ before: before.statusCode, after: errorOf(after) }).toEqual({ before: 200, after: { status: 401, code: 'UNAUTHENTICATED' } });
      } finally {
        clock.advance(-(3600_000 + 1000));
      }
    });

    it('fail/an expiry in the past is refused with 400 VALIDATION_FAILED', async () => {
      const res = await createToken({ name: 'already-expired', expiresAt: new Date(clock.now().getTime() - 1000).toISOString() });
      expect(errorOf(res)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    });

    it.each([
      ['a malformed Authorization header', 'Basic YWxpY2U6cGFzcw=='],
      ['an unknown bearer token', 'Bearer cbt_unknown'],
    ])('fail/%s is 401 UNAUTHENTICATED', async (_name, authorization) => {
      const res = await env.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization } });
      expect(errorOf(res)).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
    });
  });

  describe('login rate limiting', () => {
    const USER = 'throttled';
    beforeAll(async () => {
      await userWithToken(env, USER, 'requester');
      // Five failures from five addresses: only the per-user-name counter reaches the limit.
      for (let i = 1; i <= 5; i++) {
        const res = await login(USER, 'wrong password', `203.0.113.${i}`);
        if (res.statusCode !== 401) throw new Error(`failure ${i} answered ${res.statusCode}`);
      }
    });

    it('fail/the 6th attempt for a user name is 429 RATE_LIMITED with Retry-After, even with the right password', async () => {
      const res = await login(USER, PASSWORD, '203.0.113.50');
      expect({ ...errorOf(res), retryAfter: res.headers['retry-after'], cookies: res.cookies.length }).toEqual({ status: 429, code: 'RATE_LIMITED', retryAfter: '900', cookies: 0 });
    });

    it('ok/the failures are rows in the database', async () => {
      const rows = await env.core.db.selectFrom('login_failures').select('throttle_key').where('throttle_key', '=', `user:${USER}`).execute();
      expect(rows.length).toBe(5);
    });

    it('fail/a second instance on the same database refuses the same user name with 429 RATE_LIMITED', async () => {
      const second = await secondInstance(env);
      try {
        expect(errorOf(await login(USER, PASSWORD, '203.0.113.51', second.app))).toEqual({ status: 429, code: 'RATE_LIMITED' });
      } finally {
        await second.close();
      }
    });

    it('ok/another user name from the same address still logs in', async () => {
      const res = await login('alice', PASSWORD, '203.0.113.1');
      expect(res.statusCode).toBe(200);
    });

    it('ok/once the window has passed the user logs in again', async () => {
      clock.advance(15 * 60_000 + 1000);
      try {
        const res = await login(USER, PASSWORD, '203.0.113.52');
        expect(res.statusCode).toBe(200);
      } finally {
        clock.advance(-(15 * 60_000 + 1000));
      }
    });

    it('fail/five failures from one address throttle that address for every user name', async () => {
      for (let i = 0; i < 5; i++) await login(`nobody-${i}`, 'wrong password', '203.0.113.99');
      expect(errorOf(await login('alice', PASSWORD, '203.0.113.99'))).toEqual({ status: 429, code: 'RATE_LIMITED' });
    });
  });
});
