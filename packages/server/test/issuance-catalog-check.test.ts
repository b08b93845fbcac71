import { buildCsr, generateKeyPair, parseDn, pemEncode } from '@certbridge/pki';
import type { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCatalogCache } from '../src/repositories/catalog-cache.ts';
import { ENGINES, bearer, createTestEnv, type TestEnv } from './helpers.ts';

/**
 * Catalogue version checks per API issuance (issue 4): the bearer-token statement reads the counter
 * (auth/token-lookup.ts), the route's application and profile lookups use it, and the issuance core
 * reuses it (IssueContext.catalogVersion) for the link, CA and policy lookups: no counter query of
 * its own. A UI (session) issuance reads the counter once, shared by those lookups.
 * That instance B still sees a change made on instance A is tested in issuance-speed.test.ts.
 */
const csrPem = (cn: string): string => {
  const pair = generateKeyPair('EC-P256');
  return pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn(`CN=${cn}`), sans: [{ type: 'dns', value: cn }], privateKey: pair.privateKey, publicKey: pair.publicKey }));
};

describe.each(ENGINES)('catalogue version checks on %s', (engine) => {
  let env: TestEnv;

  beforeAll(async () => {
    env = await createTestEnv(engine);
  });
  afterAll(async () => {
    await env?.close();
  });

  /** The SQL of the statements sent with executeQuery (catalog-cache.ts and the token lookup use it) while `run` runs. */
  async function statementsDuring(run: () => Promise<unknown>): Promise<string[]> {
    const spy = vi.spyOn(env.core.db, 'executeQuery');
    try {
      await run();
      return spy.mock.calls.map(([query]) => (query as CompiledQuery).sql ?? '');
    } finally {
      spy.mockRestore();
    }
  }
  /** Statements that read the catalogue counter and nothing else (CatalogCache.version). */
  const counterQueries = (sql: string[]) => sql.filter((s) => /^\s*select version::text as version from cache_versions\b/.test(s)).length;
  /** Bearer-token lookups that read the counter too (auth/token-lookup.ts). */
  const tokenLookupsWithCounter = (sql: string[]) => sql.filter((s) => /\bfrom api_tokens\b/.test(s) && s.includes('from cache_versions')).length;
  async function counterReads(run: () => Promise<unknown>): Promise<number> {
    return counterQueries(await statementsDuring(run));
  }
  const issueWith = (headers: Record<string, string>, cn: string) =>
    env.app.inject({ method: 'POST', url: '/api/v1/applications/default/certificates', headers, payload: { profile: 'default-tls', csr: csrPem(cn) } });

  it('ok/an-api-issuance-takes-the-catalogue-counter-from-its-token-statement', async () => {
    await issueWith(bearer(env.adminToken), 'warm.example.test');
    let status = 0;
    const sql = await statementsDuring(async () => { status = (await issueWith(bearer(env.adminToken), 'once.example.test')).statusCode; });
    expect({ status, counterQueries: counterQueries(sql), tokenLookupsWithCounter: tokenLookupsWithCounter(sql) }).toEqual({ status: 201, counterQueries: 0, tokenLookupsWithCounter: 1 });
  });

  it('ok/bearer-lookups-asked-together-share-one-statement-and-each-gets-the-counter', async () => {
    const other = (await env.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: bearer(env.adminToken), payload: { name: 'second' } })).json<{ token: string }>().token;
    const current = await createCatalogCache(env.core.db).version();
    let found: ({ username: string; catalogVersion: string | undefined } | null)[] = [];
    const sql = await statementsDuring(async () => {
      const answers = await Promise.all([env.core.auth.authenticateBearer(env.adminToken), env.core.auth.authenticateBearer(other), env.core.auth.authenticateBearer('cbt_unknown')]);
      found = answers.map((a) => a && { username: a.principal.username, catalogVersion: a.catalogVersion });
    });
    expect({ found, counterQueries: counterQueries(sql), tokenLookupsWithCounter: tokenLookupsWithCounter(sql) }).toEqual({
      found: [{ username: 'admin', catalogVersion: current }, { username: 'admin', catalogVersion: current }, null], counterQueries: 0, tokenLookupsWithCounter: 1,
    });
  });

  it('ok/a-ui-session-issuance-reads-the-catalogue-counter-once', async () => {
    const password = 'session issuer password 1';
    await env.app.inject({ method: 'POST', url: '/api/v1/users', headers: bearer(env.adminToken), payload: { username: 'session-issuer', password, role: 'admin' } });
    const login = await env.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'session-issuer', password } });
    const headers = { cookie: `certbridge_session=${login.cookies.find((c) => c.name === 'certbridge_session')!.value}`, 'x-csrf-token': login.json<{ csrfToken: string }>().csrfToken };
    await issueWith(headers, 'warm-session.example.test');
    let status = 0;
    const reads = await counterReads(async () => { status = (await issueWith(headers, 'session.example.test')).statusCode; });
    expect({ status, reads }).toEqual({ status: 201, reads: 1 });
  });

  it('ok/lookups-given-the-counter-read-by-version-ask-no-further-counter', async () => {
    const cache = createCatalogCache(env.core.db);
    const loads: string[] = [];
    const load = (key: string) => async () => (loads.push(key), key);
    const reads = await counterReads(async () => {
      const observed = await cache.version();
      await Promise.all([cache.get('a', load('a'), observed), cache.get('b', load('b'), observed)]);
      await cache.get('a', load('a'), observed);
    });
    expect({ reads, loads }).toEqual({ reads: 1, loads: ['a', 'b'] });
  });
});
