import { randomUUID } from 'node:crypto';
import { buildCsr, generateKeyPair, parseDn, pemEncode } from '@certbridge/pki';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../src/core.ts';
import { createSealer } from '../src/crypto/sealer.ts';
import { buildApp } from '../src/http/app.ts';
import { createIssuanceWriter, type IssuedRecord } from '../src/issuance/issuance-writer.ts';
import { ENGINES, PKI_URL, bearer, createTestEnv, type TestEnv } from './helpers.ts';

/**
 * The speed machinery of issue 2 must not change what is stored or who may do what: group commit
 * (issuance-writer.ts), the catalogue cache (catalog-cache.ts) and batched token lookups
 * (token-lookup.ts). "Instance B" is a second core and app on the same database, with caches of its own.
 */
const csrPem = (cn: string): string => {
  const pair = generateKeyPair('EC-P256');
  return pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn(`CN=${cn}`), sans: [{ type: 'dns', value: cn }], privateKey: pair.privateKey, publicKey: pair.publicKey }));
};

describe.each(ENGINES)('issuance speed machinery on %s', (engine) => {
  let env: TestEnv;
  let coreB: Core;
  let appB: FastifyInstance;
  const issue = (app: FastifyInstance, cn: string, token = env.adminToken) =>
    app.inject({ method: 'POST', url: '/api/v1/applications/default/certificates', headers: bearer(token), payload: { profile: 'default-tls', csr: csrPem(cn) } });

  beforeAll(async () => {
    env = await createTestEnv(engine);
    coreB = createCore({ db: env.handle.db, sealer: createSealer(env.masterKey), pkiUrl: PKI_URL });
    appB = await buildApp(coreB, { publicUrl: 'https://certbridge.test' });
  });
  afterAll(async () => {
    await appB?.close();
    await env?.close();
  });

  it('ok/40 concurrent issuances are each answered 201 with a certificate, order and audit row that are stored', async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => issue(i % 2 ? appB : env.app, `burst-${i}.example.test`)));
    const ids = answers.map((a) => a.json().certificate?.id as string);
    const db = env.core.db;
    const stored = await db.selectFrom('certificates').innerJoin('orders', 'orders.id', 'certificates.order_id')
      .select(['certificates.id', 'orders.status', 'orders.certificate_id']).where('certificates.id', 'in', ids).execute();
    const audited = await db.selectFrom('audit_log').select('resource_id').where('action', '=', 'certificate.issue').where('resource_id', 'in', ids).execute();
    expect({
      statuses: [...new Set(answers.map((a) => a.statusCode))],
      stored: stored.filter((r) => r.status === 'issued' && r.certificate_id === r.id).length,
      audited: audited.length,
    }).toEqual({ statuses: [201], stored: 40, audited: 40 });
  });

  it('fail/a batch holding one record that breaks a constraint fails that record only; the others are stored', async () => {
    const good = (await issue(env.app, 'template.example.test')).json();
    const writer = createIssuanceWriter(env.core.db, env.core.clock);
    const record = (applicationId: string): IssuedRecord => {
      const orderId = randomUUID();
      const certificateId = randomUUID();
      const serial = randomUUID().replace(/-/g, '');
      return {
        order: { id: orderId, application_id: applicationId, profile_id: good.certificate.profileId, ca_id: good.certificate.caId, requester_id: null, protocol: 'api', status: 'issued', csr_der: null, subject: 'CN=batch', sans: [], common_name: 'batch', adcs_domain: null, key_algorithm: 'EC-P256', server_key_sealed: null, ca_request_id: null, ca_server: null, template: null, disposition: null, hresult: null, error: null, attempts: 1, next_poll_at: null, certificate_id: certificateId, warning: null, created_at: new Date(), updated_at: new Date() },
        certificate: { id: certificateId, ca_id: good.certificate.caId, order_id: orderId, application_id: applicationId, profile_id: good.certificate.profileId, requester_id: null, serial_hex: serial, subject: 'CN=batch', sans: [], search_text: 'cn=batch', key_algorithm: 'EC-P256', fingerprint_sha256: serial, not_before: new Date(), not_after: new Date(Date.now() + 86_400_000), status: 'active', revoked_at: null, revocation_reason: null, der: new Uint8Array([0x30, 0x00]), chain: [], private_key_sealed: null, renewed_from_id: null, ca_revocation_pending: false, created_at: new Date() },
        audit: { actor: null, action: 'certificate.issue', resourceType: 'certificate', resourceId: certificateId, outcome: 'success' },
      };
    };
    const records = [record(good.certificate.applicationId), record(randomUUID()), record(good.certificate.applicationId)];
    const outcomes = await Promise.allSettled(records.map((r) => writer.write(r)));
    const stored = await env.core.db.selectFrom('certificates').select('id').where('id', 'in', records.map((r) => r.certificate.id)).execute();
    expect({ outcomes: outcomes.map((o) => o.status), stored: stored.map((r) => r.id).sort() })
      .toEqual({ outcomes: ['fulfilled', 'rejected', 'fulfilled'], stored: [records[0]!.certificate.id, records[2]!.certificate.id].sort() });
  });

  it('fail/a profile detached on instance A is refused by instance B on its next request (its cache is not stale)', async () => {
    expect((await issue(appB, 'before-detach.example.test')).statusCode).toBe(201);
    const admin = (await env.core.auth.authenticateToken(env.adminToken))!;
    const app = await env.core.catalog.getApplication(admin, 'default');
    await env.core.catalog.updateApplication(admin, app.id, { profiles: [] });
    const refused = await issue(appB, 'after-detach.example.test');
    await env.core.catalog.updateApplication(admin, app.id, { profiles: app.profiles.map((p) => p.id) });
    const again = await issue(appB, 'after-reattach.example.test');
    expect({ refused: [refused.statusCode, refused.json().error.code], again: again.statusCode }).toEqual({ refused: [400, 'VALIDATION_FAILED'], again: 201 });
  });

  it('fail/a Key Vault sync created, disabled or deleted on instance A changes what instance B sees at once; run bookkeeping keeps the cache', async () => {
    const cert = (await issue(env.app, 'sync-scope.example.test')).json().certificate;
    const store = coreB.syncs.store;
    const db = env.core.db.withTables<{ syncs: { id: string; name: string; connection_id: string; vault_url: string; application_ids: string; enabled: boolean } }>();
    const version = async () => (await sql<{ v: string }>`select version::text as v from cache_versions where name = 'catalog'`.execute(env.core.db)).rows[0]!.v;
    const covering = async () => (await store.covering(cert.applicationId, cert.profileId)).map((r) => r.id);
    const before = await covering();
    const id = randomUUID();
    await db.insertInto('syncs').values({ id, name: `scope-${id}`, connection_id: randomUUID(), vault_url: 'https://vault.example.test', application_ids: JSON.stringify([cert.applicationId]), enabled: true }).execute();
    const created = await covering();
    const v = await version();
    await store.recordRun(id, new Date(), 'vault unreachable');
    const afterRun = await version();
    await db.updateTable('syncs').set({ enabled: false }).where('id', '=', id).execute();
    const disabled = await covering();
    await db.updateTable('syncs').set({ enabled: true }).where('id', '=', id).execute();
    expect(await covering()).toContain(id);
    await db.deleteFrom('syncs').where('id', '=', id).execute();
    expect({ before, created: created.includes(id), runBumpsVersion: afterRun !== v, disabled: disabled.includes(id), deleted: await covering() })
      .toEqual({ before: [], created: true, runBumpsVersion: false, disabled: false, deleted: [] });
  });

  it('fail/a token revoked on instance A is refused by instance B on its next request', async () => {
    const admin = (await env.core.auth.authenticateToken(env.adminToken))!;
    const created = await env.core.auth.createToken(admin, { name: 'short-lived' });
    const before = await issue(appB, 'token-before.example.test', created.token);
    await env.core.auth.revokeToken(admin, created.id);
    const after = await issue(appB, 'token-after.example.test', created.token);
    expect({ before: before.statusCode, after: [after.statusCode, after.json().error.code] }).toEqual({ before: 201, after: [401, 'UNAUTHENTICATED'] });
  });
});
