import { buildCsr, generateKeyPair, parseDn, pemEncode } from '@certbridge/pki';
import type { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCatalogCache } from '../src/repositories/catalog-cache.ts';
import { ENGINES, bearer, createTestEnv, type TestEnv } from './helpers.ts';

/**
 * One catalogue version check per API issuance (issue 4): the route reads the counter with the
 * profile (CatalogService.requireProfileForIssue) and the issuance core reuses it
 * (IssueContext.catalogVersion) for the link, CA and policy lookups instead of reading it again.
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

  /** Reads of the catalogue counter (catalog-cache.ts sends them with executeQuery) while `run` runs. */
  async function counterReads(run: () => Promise<unknown>): Promise<number> {
    const spy = vi.spyOn(env.core.db, 'executeQuery');
    try {
      await run();
      return spy.mock.calls.filter(([query]) => (query as CompiledQuery).sql?.includes(`from cache_versions where name = 'catalog'`)).length;
    } finally {
      spy.mockRestore();
    }
  }

  it('ok/an-api-issuance-reads-the-catalogue-counter-once', async () => {
    const issue = (cn: string) => env.app.inject({ method: 'POST', url: '/api/v1/applications/default/certificates', headers: bearer(env.adminToken), payload: { profile: 'default-tls', csr: csrPem(cn) } });
    await issue('warm.example.test');
    let status = 0;
    const reads = await counterReads(async () => { status = (await issue('once.example.test')).statusCode; });
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
