import { randomUUID } from 'node:crypto';
import { buildCsr, generateKeyPair, parseDn } from '@certbridge/pki';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAcmeRepository, type AcmeRepository } from '../src/enrollment/acme/acme-repository.ts';
import { acmeDb, type AccountRow } from '../src/enrollment/acme/acme-tables.ts';
import type { ResourceRead } from '../src/enrollment/acme/resource-reads.ts';
import { ENGINES, createTestEnv, type TestEnv } from './helpers.ts';

/**
 * The resources a POST-as-GET names are read in the statement that consumes its nonce
 * (resource-reads.ts): what that statement hands back must be exactly what the repository's own
 * reads return, on both engines, dates and JSON columns included.
 */
describe.each(ENGINES)('ACME resources read with the nonce on %s', (engine) => {
  let env: TestEnv;
  let repo: AcmeRepository;
  let owner: AccountRow;
  let other: AccountRow;
  const ids = { order: randomUUID(), authz: randomUUID(), http: randomUUID(), dns: randomUUID(), certificate: '' };

  const account = async (profileId: string, applicationId: string) => repo.insertAccount(repo.db, {
    id: randomUUID(), profile_id: profileId, application_id: applicationId, thumbprint: randomUUID(), jwk: JSON.stringify({ kty: 'EC' }), status: 'valid', contact: '[]', eab_key_id: null,
  });
  /** One entry of the batched statement, with a fresh nonce. */
  const readWithNonce = async (accountId: string, read: ResourceRead) => {
    const [answer] = await repo.consumeNoncesAndFindAccounts([{ nonce: await repo.newNonce(new Date()), accountId, read }], new Date());
    expect(answer!.nonceOk).toBe(true);
    return answer!.resource;
  };

  beforeAll(async () => {
    env = await createTestEnv(engine);
    repo = createAcmeRepository(acmeDb(env.core.db));
    const { profile, application } = await env.core.repos.catalog.profileWithFirstApplication('default-tls');
    owner = await account(profile!.id, application!.id);
    other = await account(profile!.id, application!.id);
    const expires = new Date(Date.now() + 86_400_000);
    const inserted = await repo.insertOrderWithinLimits({
      order: { id: ids.order, account_id: owner.id, identifiers: JSON.stringify([{ type: 'dns', value: 'read.acme.test' }]), expires_at: expires, created_at: new Date() },
      authorizations: [{ id: ids.authz, identifier_type: 'dns', identifier_value: 'read.acme.test', wildcard: false }],
      challenges: [{ id: ids.http, authorization_id: ids.authz, type: 'http-01', token: 'token-http' }, { id: ids.dns, authorization_id: ids.authz, type: 'dns-01', token: 'token-dns' }],
    }, { profileId: profile!.id, since: new Date(Date.now() - 3_600_000), values: ['read.acme.test'], accountLimit: 10, identifierLimit: 10 });
    expect(inserted.counts).toEqual({ account: 0, identifiers: [0] });
    // A failed attempt (error and attempts) and a valid challenge (validated_at); the order's updated_at comes from the database clock (microseconds).
    await repo.updateChallenge(repo.db, ids.dns, { status: 'invalid', attempts: 2, error: JSON.stringify({ type: 'urn:ietf:params:acme:error:dns', detail: 'no TXT record' }), claimed_at: new Date() });
    await repo.settleValidation({ challengeId: ids.http, authorizationId: ids.authz, orderId: ids.order }, { validatedAt: new Date() });
    const pair = generateKeyPair('EC-P256');
    const csr = buildCsr({ subject: parseDn('CN=read.acme.test'), sans: [{ type: 'dns', value: 'read.acme.test' }], privateKey: pair.privateKey, publicKey: pair.publicKey });
    const outcome = await env.core.issuance.issue({ actor: null, protocol: 'acme', application: application!, profile: profile! }, { kind: 'csr', csr });
    if (outcome.status !== 'issued') throw new Error(`issuance: ${outcome.status}`);
    ids.certificate = outcome.certificate.id;
    await repo.db.updateTable('acme_orders').set({ status: 'valid', certificate_id: ids.certificate, issuance_order_id: outcome.order.id, updated_at: sql<Date>`now()` }).where('id', '=', ids.order).execute();
  });
  afterAll(async () => {
    await env?.close();
  });

  it('ok/an authorization with its challenges equals findAuthorizationWithChallenges', async () => {
    const found = await readWithNonce(owner.id, { kind: 'authz', id: ids.authz });
    expect(found).toEqual({ kind: 'authz', found: await repo.findAuthorizationWithChallenges(ids.authz) });
    expect(found?.kind === 'authz' && found.found?.challenges.map((c) => [c.type, c.status])).toEqual([['dns-01', 'invalid'], ['http-01', 'valid']]);
  });

  it('ok/an order with its authorization summary equals findOrderWithAuthorizations', async () => {
    const found = await readWithNonce(owner.id, { kind: 'order', id: ids.order });
    expect(found).toEqual({ kind: 'order', found: await repo.findOrderWithAuthorizations(ids.order) });
    expect(found?.kind === 'order' && [found.found?.order.status, found.found?.authorizations]).toEqual(['valid', [{ id: ids.authz, status: 'valid' }]]);
  });

  it('ok/a challenge with its authorization equals findChallengeWithAuthorization, a failed one\'s error and dates included', async () => {
    for (const id of [ids.http, ids.dns]) {
      const found = await readWithNonce(owner.id, { kind: 'chall', id });
      expect(found).toEqual({ kind: 'chall', found: await repo.findChallengeWithAuthorization(id) });
    }
    const failed = await readWithNonce(owner.id, { kind: 'chall', id: ids.dns });
    expect(failed?.kind === 'chall' && [failed.found?.challenge.attempts, failed.found?.challenge.claimed_at instanceof Date, failed.found?.authz.id]).toEqual([2, true, ids.authz]);
    expect(await readWithNonce(owner.id, { kind: 'chall', id: randomUUID() })).toEqual({ kind: 'chall', found: undefined });
  });

  it('ok/a certificate of the account\'s order carries the DER and chain of findAccountCertificate', async () => {
    const own = await repo.findAccountCertificate(ids.certificate, owner.id);
    const found = await readWithNonce(owner.id, { kind: 'cert', id: ids.certificate });
    expect(found).toEqual({ kind: 'cert', found: { der: Buffer.from(own!.der), chain: own!.chain } });
  });

  it('fail/another account\'s certificate and unknown ids are not found', async () => {
    const answers = [
      await readWithNonce(other.id, { kind: 'cert', id: ids.certificate }),
      await readWithNonce(owner.id, { kind: 'order', id: randomUUID() }),
      await readWithNonce(owner.id, { kind: 'authz', id: randomUUID() }),
    ];
    expect(answers).toEqual([{ kind: 'cert', found: undefined }, { kind: 'order', found: undefined }, { kind: 'authz', found: undefined }]);
  });

  it('ok/entries with and without a read share one statement, each answered in its order', async () => {
    const nonces = [await repo.newNonce(new Date()), await repo.newNonce(new Date())];
    const answers = await repo.consumeNoncesAndFindAccounts([{ nonce: nonces[0]!, accountId: owner.id }, { nonce: nonces[1]!, accountId: owner.id, read: { kind: 'authz', id: ids.authz } }], new Date());
    expect(answers.map((a) => [a.nonceOk, a.account?.id, a.resource?.kind])).toEqual([[true, owner.id, undefined], [true, owner.id, 'authz']]);
  });
});
