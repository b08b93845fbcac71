import { parseDn } from '@certbridge/pki';
import type { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CertificateRow } from '../src/db/schema.ts';
import { bearer, ENGINES } from './helpers.ts';
import { createMemoryVault, createSyncEnv, type SyncEnv } from './sync-fixtures.ts';

/**
 * After an issuance the Key Vault sync hook asks which enabled syncs cover the certificate
 * (syncs-module.ts, through the catalogue cache). It uses the catalogue counter the request
 * already read (IssueContext.catalogVersion, as the API route and ACME finalize pass it) instead
 * of reading the counter again, and still honours every sync change committed before the request.
 */
describe.each(ENGINES)('sync lookup after an issuance on %s', (engine) => {
  const vault = createMemoryVault();
  let s: SyncEnv;

  beforeAll(async () => {
    s = await createSyncEnv(engine, async () => vault.client);
    await s.core.azure.connections.create(s.admin, {
      name: 'kv', type: 'azure-key-vault', method: 'client-secret', tenantId: '8c5e3b5e-1111-4a3b-9c1d-0e2f3a4b5c6d',
      clientId: '0b7d2f43-2222-4b6c-8d7e-1f2a3b4c5d6e', clientSecret: 'not used', vaultName: 'kv-counter',
    });
  }, 60_000);
  afterAll(async () => {
    await s?.env.close();
  });

  /**
   * One request's issuance as the API route does it: the counter read once after the request
   * began, the application and profile read under it, and the counter handed to the core.
   * Returns the certificate and how many statements read the counter on their own while it ran.
   */
  async function issueAsRequest(cn: string): Promise<{ certificate: CertificateRow; counterQueries: number }> {
    const spy = vi.spyOn(s.env.core.db, 'executeQuery');
    try {
      const catalogVersion = await s.core.repos.catalog.catalogVersion();
      const [application, profile] = await Promise.all([s.core.repos.catalog.findApplication('default', catalogVersion), s.core.repos.catalog.findProfile('default-tls', catalogVersion)]);
      const outcome = await s.core.issuance.issue(
        { actor: s.admin, protocol: 'api', application: application!, profile: profile!, ...(catalogVersion ? { catalogVersion } : {}) },
        { kind: 'keygen', subject: parseDn(`CN=${cn}`), sans: [{ type: 'dns', value: cn }] },
      );
      if (outcome.status !== 'issued') throw new Error(`not issued: ${outcome.status}`);
      const counterQueries = spy.mock.calls.filter(([query]) => (query as CompiledQuery).sql?.startsWith('select version::text as version from cache_versions')).length;
      return { certificate: outcome.certificate, counterQueries };
    } finally {
      spy.mockRestore();
    }
  }
  const certificateJobs = () => s.queued.filter((job) => job.kind === 'certificate');

  it('ok/sync-changes-committed-before-the-request-decide-whether-its-certificate-is-queued', async () => {
    // No sync yet: the (cached) answer is "none".
    await issueAsRequest('before.counter.test');
    expect(certificateJobs()).toEqual([]);

    const created = await s.env.app.inject({ method: 'POST', url: '/api/v1/syncs', headers: bearer(s.env.adminToken), payload: { name: 'counter', connection: 'kv', applications: ['default'] } });
    const covered = await issueAsRequest('covered.counter.test');
    const queuedWhileEnabled = certificateJobs().map((job) => job.certificateId);

    const disabled = await s.env.app.inject({ method: 'PATCH', url: `/api/v1/syncs/${created.json<{ id: string }>().id}`, headers: bearer(s.env.adminToken), payload: { enabled: false } });
    s.queued.length = 0;
    await issueAsRequest('after.counter.test');

    expect({ created: created.statusCode, disabled: disabled.statusCode, queuedWhileEnabled, queuedWhileDisabled: certificateJobs() })
      .toEqual({ created: 201, disabled: 200, queuedWhileEnabled: [covered.certificate.id], queuedWhileDisabled: [] });
  });

  it('ok/an-issuance-given-the-request-counter-sends-no-counter-query-for-the-sync-lookup', async () => {
    await s.env.app.inject({ method: 'POST', url: '/api/v1/syncs', headers: bearer(s.env.adminToken), payload: { name: 'counter-on', connection: 'kv', applications: ['default'] } });
    s.queued.length = 0;
    // The request's own counter read is the one issueAsRequest sends first; the hook must add none.
    const { certificate, counterQueries } = await issueAsRequest('once.counter.test');
    expect({ counterQueries, queued: certificateJobs() }).toEqual({ counterQueries: 1, queued: [{ kind: 'certificate', certificateId: certificate.id }] });
  });
});
