import { randomBytes } from 'node:crypto';
import { CompiledQuery, sql, type Insertable, type Updateable } from 'kysely';
import type {
  AccountRow, AcmeAccountsTable, AcmeOrderRow, AuthorizationRow, ChallengeRow, AcmeAuthorizationsTable, AcmeChallengesTable, AcmeDb, AcmeOrdersTable, AcmeEabKeysTable,
} from './acme-tables.ts';
import { ASYNC_COMMIT_FROM, asyncCommitColumn } from '../../db/async-commit.ts';
import { orderPathStatements } from './order-path-statements.ts';
import { insertOrderWithinLimits, type NewOrderTree, type RateWindow } from './new-order-statement.ts';
import { RESOURCE_COLUMN, resourceFound, type AuthorizationSummary, type ResourceFound, type ResourceRead } from './resource-reads.ts';

export type { AuthorizationSummary };

const NONCE_LIFETIME_MS = 60 * 60_000;
/** Nonces are stored this many at a time (one insert) and handed out from memory. */
const NONCE_BATCH = 64;
/** A batch older than this is dropped, so every nonce handed out has most of its lifetime left. */
const NONCE_BATCH_MAX_AGE_MS = 5 * 60_000;

/**
 * The order's authorizations as one `id:status,…` text column (by identifier, as
 * orderAuthorizations sorts them): text, because array columns do not come back alike from
 * node-postgres and PGlite.
 */
const authorizationSummary = sql<string | null>`(select string_agg(a.id::text || ':' || a.status, ',' order by a.identifier_value) from acme_authorizations a where a.order_id = acme_orders.id)`.as('authz_summary');

function splitSummary<R extends { authz_summary: string | null }>(row: R): { order: Omit<R, 'authz_summary'>; authorizations: AuthorizationSummary[] } {
  const { authz_summary: summary, ...order } = row;
  const authorizations = (summary ? summary.split(',') : []).map((pair) => {
    const [id, status] = pair.split(':') as [string, AuthorizationRow['status']];
    return { id, status };
  });
  return { order, authorizations };
}

/** A challenge's columns next to its authorization's, prefixed so the two do not collide. */
const challengeColumns = [
  'acme_challenges.id as c_id', 'acme_challenges.type as c_type', 'acme_challenges.token as c_token', 'acme_challenges.status as c_status',
  'acme_challenges.validated_at as c_validated_at', 'acme_challenges.error as c_error', 'acme_challenges.attempts as c_attempts', 'acme_challenges.claimed_at as c_claimed_at',
] as const;

type PrefixedChallenge = { [K in keyof ChallengeRow as K extends 'authorization_id' ? never : `c_${K & string}`]: ChallengeRow[K] | null };

function challengeOf(r: PrefixedChallenge & { id: string }): ChallengeRow {
  return {
    id: r.c_id!, authorization_id: r.id, type: r.c_type!, token: r.c_token!, status: r.c_status!, validated_at: r.c_validated_at ?? null,
    error: r.c_error ?? null, attempts: r.c_attempts ?? 0, claimed_at: r.c_claimed_at ?? null,
  };
}

/**
 * The statement of every kid-signed request (consumeNoncesAndFindAccounts), written out once: a
 * data-modifying CTE over an unnested batch, which the query builder cannot express; the account
 * columns come back typed exactly as `selectAll()` returns them. $1 nonces, $2 accounts, $3 and $4
 * the kind and id of each entry's resource read (resource-reads.ts), $5 now. Every parameter is
 * read through `(select $n)` so that PostgreSQL plans it once per connection (db/prepared-statements.ts).
 *
 * Its commit does not wait for the WAL flush (db/async-commit.ts). Should PostgreSQL crash and lose
 * it, the nonces are usable once more, but only together with what their requests wrote without
 * waiting (a new order, a challenge's state), which is lost with them: a replay can do that once
 * again, never twice. A request whose own write waits for the flush (revocation, key change,
 * account update) carries the nonce's deletion to disk with it.
 */
const CONSUME_NONCES_AND_READ = `
  with req as (select * from unnest((select $1::text[]), (select $2::uuid[]), (select $3::text[]), (select $4::uuid[])) with ordinality as r(nonce, account_id, kind, rid, i)),
  consumed as (delete from acme_nonces n where n.nonce in (select nonce from req) and n.expires_at > (select $5::timestamptz) returning n.nonce)
  select req.i::int as i, exists (select 1 from consumed c where c.nonce = req.nonce) as nonce_ok,
    (select version::text from cache_versions where name = 'catalog') as catalog_version, ${RESOURCE_COLUMN} as resource, a.*
  from req cross join ${ASYNC_COMMIT_FROM} left join acme_accounts a on a.id = req.account_id order by req.i`;

/** All ACME SQL: nonces, accounts, orders, authorizations, challenges, EAB keys. */
export function createAcmeRepository(db: AcmeDb) {
  let batch: string[] = [];
  let batchAt = 0;
  let refilling: Promise<void> | null = null;
  /**
   * One insert of a batch of nonces; concurrent callers share it. It does not wait for the WAL
   * flush (db/async-commit.ts): nonces lost in a crash of PostgreSQL are refused as `badNonce`, whose
   * answer carries a fresh one, and every client retries with it (RFC 8555 section 6.5).
   */
  const refill = (now: Date) => (refilling ??= (async () => {
    const fresh = Array.from({ length: NONCE_BATCH }, () => randomBytes(16).toString('base64url'));
    const expires = new Date(now.getTime() + NONCE_LIFETIME_MS);
    await db.insertInto('acme_nonces').values(fresh.map((nonce) => ({ nonce, expires_at: expires }))).returning(asyncCommitColumn).execute();
    [batch, batchAt] = [fresh, now.getTime()];
  })().finally(() => {
    refilling = null;
  }));

  return {
    db,
    /**
     * A nonce already stored in the database (so any instance accepts it once), taken from a
     * batch inserted ahead: every ACME answer carries a nonce, and one insert per answer was
     * the largest single cost of a request.
     */
    async newNonce(now: Date): Promise<string> {
      for (;;) {
        if (batch.length && now.getTime() - batchAt < NONCE_BATCH_MAX_AGE_MS) return batch.pop()!;
        await refill(now);
      }
    },
    /** Single use across all instances: the delete that finds the row wins. */
    async consumeNonce(nonce: string, now: Date): Promise<boolean> {
      const row = await db.deleteFrom('acme_nonces').where('nonce', '=', nonce).where('expires_at', '>', now).returning('nonce').executeTakeFirst();
      return Boolean(row);
    },
    /**
     * `consumeNonce` and the signing account for several requests in one round trip: every
     * kid-signed request needs both, and a statement costs more than the rows it reads (see
     * request-auth-lookup.ts, which batches concurrent requests). Answers are in `entries` order.
     * A nonce named twice is granted to its first entry only. The catalogue counter comes along
     * (catalog-cache.ts): the request's directory lookup then needs no version query of its own.
     * An entry's `read` names the resource its request fetches (resource-reads.ts), read too.
     */
    async consumeNoncesAndFindAccounts(entries: { nonce: string; accountId: string; read?: ResourceRead | undefined }[], now: Date): Promise<{ nonceOk: boolean; account: AccountRow | undefined; catalogVersion: string | undefined; resource: ResourceFound | undefined }[]> {
      const { rows } = await db.executeQuery<AccountRow & { i: number; nonce_ok: boolean; catalog_version: string | null; resource: unknown }>(CompiledQuery.raw(CONSUME_NONCES_AND_READ, [
        entries.map((e) => e.nonce), entries.map((e) => e.accountId), entries.map((e) => e.read?.kind ?? null), entries.map((e) => e.read?.id ?? null), now,
      ]));
      const granted = new Set<string>();
      return rows.map(({ i, nonce_ok: consumed, catalog_version: catalogVersion, resource, ...account }) => {
        const entry = entries[Number(i) - 1]!;
        const nonceOk = Boolean(consumed) && !granted.has(entry.nonce);
        granted.add(entry.nonce);
        return { nonceOk, account: account.id ? account : undefined, catalogVersion: catalogVersion ?? undefined, resource: entry.read && resourceFound(entry.read.kind, resource) };
      });
    },
    purgeNonces: (now: Date) => db.deleteFrom('acme_nonces').where('expires_at', '<=', now).execute(),

    findCertificateBySerial: (profileId: string, serialHex: string) =>
      db.selectFrom('certificates').selectAll().where('profile_id', '=', profileId).where('serial_hex', '=', serialHex).executeTakeFirst(),
    findCertificateByFingerprint: (fingerprintSha256: string) => db.selectFrom('certificates').selectAll().where('fingerprint_sha256', '=', fingerprintSha256).executeTakeFirst(),

    findAccount: (id: string) => db.selectFrom('acme_accounts').selectAll().where('id', '=', id).executeTakeFirst(),
    findAccountByThumbprint: (profileId: string, thumbprint: string) =>
      db.selectFrom('acme_accounts').selectAll().where('profile_id', '=', profileId).where('thumbprint', '=', thumbprint).executeTakeFirst(),
    insertAccount: (trx: AcmeDb, row: Insertable<AcmeAccountsTable>) => trx.insertInto('acme_accounts').values(row).returningAll().executeTakeFirstOrThrow(),
    updateAccount: (trx: AcmeDb, id: string, patch: Updateable<AcmeAccountsTable>) =>
      trx.updateTable('acme_accounts').set({ ...patch, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),

    findOrder: (id: string) => db.selectFrom('acme_orders').selectAll().where('id', '=', id).executeTakeFirst(),
    updateOrder: (trx: AcmeDb, id: string, patch: Updateable<AcmeOrdersTable>) =>
      trx.updateTable('acme_orders').set({ ...patch, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),
    /** Moves an order from one status to another only if it is still in the first (finalize races). */
    claimOrder: (id: string, from: AcmeOrdersTable['status'], to: AcmeOrdersTable['status']) =>
      db.updateTable('acme_orders').set({ status: to, updated_at: new Date() }).where('id', '=', id).where('status', '=', from).returningAll().executeTakeFirst(),
    listOrders: (accountId: string, limit: number, before?: Date) => {
      let q = db.selectFrom('acme_orders').select(['id', 'created_at']).where('account_id', '=', accountId).orderBy('created_at', 'desc').limit(limit);
      if (before) q = q.where('created_at', '<', before);
      return q.execute();
    },
    /**
     * A `processing` order whose finalize died before the CA was asked (acme-orders.ts
     * STRANDED_FINALIZE_MS) becomes invalid with `error` (a problem, JSON), unless its issuance
     * order exists after all; the order as it now stands.
     */
    failStrandedFinalize: async (id: string, issuanceOrderId: string, error: string): Promise<AcmeOrderRow | undefined> =>
      (await db.updateTable('acme_orders').set({ status: 'invalid', error, updated_at: new Date() })
        .where('id', '=', id).where('status', '=', 'processing').where('issuance_order_id', '=', issuanceOrderId)
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('orders').select('id').where('id', '=', issuanceOrderId))))
        .returningAll().executeTakeFirst()) ?? db.selectFrom('acme_orders').selectAll().where('id', '=', id).executeTakeFirst(),
    findOrderByCertificate: (certificateId: string) => db.selectFrom('acme_orders').selectAll().where('certificate_id', '=', certificateId).executeTakeFirst(),

    /** newOrder's rate-limited insert of an order tree, in one statement (new-order-statement.ts). */
    insertOrderWithinLimits: (tree: NewOrderTree, rate: RateWindow) => insertOrderWithinLimits(db, tree, rate),
    /** An order and its authorizations' ids and statuses (by identifier, as orderAuthorizations sorts them). */
    async findOrderWithAuthorizations(id: string): Promise<{ order: AcmeOrderRow; authorizations: AuthorizationSummary[] } | undefined> {
      const row = await db.selectFrom('acme_orders').selectAll().select(authorizationSummary).where('id', '=', id).executeTakeFirst();
      return row ? splitSummary(row) : undefined;
    },
    /** An authorization and its challenges (by type), in one statement. */
    async findAuthorizationWithChallenges(id: string): Promise<{ authz: AuthorizationRow; challenges: ChallengeRow[] } | undefined> {
      const rows = await db.selectFrom('acme_authorizations').leftJoin('acme_challenges', 'acme_challenges.authorization_id', 'acme_authorizations.id')
        .selectAll('acme_authorizations').select(challengeColumns).where('acme_authorizations.id', '=', id).orderBy('acme_challenges.type').execute();
      if (!rows.length) return undefined;
      const { c_id: _id, c_type: _t, c_token: _k, c_status: _s, c_validated_at: _v, c_error: _e, c_attempts: _a, c_claimed_at: _c, ...authz } = rows[0]!;
      return { authz, challenges: rows.filter((r) => r.c_id !== null).map(challengeOf) };
    },
    /** A challenge and its authorization, in one statement. */
    async findChallengeWithAuthorization(id: string): Promise<{ challenge: ChallengeRow; authz: AuthorizationRow } | undefined> {
      const row = await db.selectFrom('acme_challenges').innerJoin('acme_authorizations', 'acme_authorizations.id', 'acme_challenges.authorization_id')
        .selectAll('acme_authorizations').select(challengeColumns).where('acme_challenges.id', '=', id).executeTakeFirst();
      if (!row) return undefined;
      const { c_id: _id, c_type: _t, c_token: _k, c_status: _s, c_validated_at: _v, c_error: _e, c_attempts: _a, c_claimed_at: _c, ...authz } = row;
      return { challenge: challengeOf(row), authz };
    },
    /**
     * A challenge response (section 7.5.1) in one statement: the challenge and its authorization,
     * the challenge claimed (pending → processing, once across instances: the update that finds it
     * pending wins) when its authorization belongs to `accountId`, is still pending and has not
     * expired. `claimed` says whether this call claimed it; otherwise the challenge is as it stood.
     */
    claimChallengeForResponse: (id: string, accountId: string, now: Date): Promise<{ challenge: ChallengeRow; authz: AuthorizationRow; claimed: boolean } | undefined> =>
      orderPathStatements.claimChallenge(db, id, accountId, now),
    /**
     * Settles a validation in one statement: the challenge, its authorization, and the order —
     * `ready` when every other authorization of the order is already valid, `invalid` on failure.
     * Two authorizations of one order settling at the same moment can each miss the other's
     * change; reading the order repairs that (`readyIfAuthorized`).
     */
    settleValidation: (c: { challengeId: string; authorizationId: string; orderId: string }, outcome: { validatedAt: Date } | { error: string }) => orderPathStatements.settle(db, c, outcome),
    /**
     * A validation that passed before anyone claimed the challenge, settled like settleValidation but
     * only from pending (order-path-statements.ts); undefined when it was no longer pending or no
     * longer the account's to answer, and then nothing changed.
     */
    settleValidFromPending: (c: { challengeId: string; authorizationId: string; orderId: string }, accountId: string, validatedAt: Date) =>
      orderPathStatements.settleValidFromPending(db, c, accountId, validatedAt),
    /** pending → ready once every authorization is valid (see settleValidation); the order as it now is. */
    readyIfAuthorized: (orderId: string) =>
      db.updateTable('acme_orders').set({ status: 'ready', updated_at: new Date() }).where('id', '=', orderId).where('status', '=', 'pending')
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('acme_authorizations').select('id').where('order_id', '=', orderId).where('status', '!=', 'valid'))))
        .returningAll().executeTakeFirst(),
    /**
     * ready → processing for the owning account only, linked to the issuance order `issuanceOrderId`
     * (which it follows from then on, migration 0020), with the authorization summary rendering
     * needs; undefined when the order is not that (the caller says why).
     */
    claimOwnOrderForFinalize: async (id: string, accountId: string, issuanceOrderId: string) => {
      const row = await orderPathStatements.claimForFinalize(db, id, accountId, issuanceOrderId, new Date());
      return row && splitSummary(row);
    },
    /** A certificate issued for one of the account's orders (certificate download). */
    findAccountCertificate: (certificateId: string, accountId: string) =>
      db.selectFrom('certificates').selectAll('certificates').where('certificates.id', '=', certificateId)
        .where(({ exists, selectFrom }) => exists(selectFrom('acme_orders').select('id').where('certificate_id', '=', certificateId).where('account_id', '=', accountId)))
        .executeTakeFirst(),
    findAuthorization: (id: string) => db.selectFrom('acme_authorizations').selectAll().where('id', '=', id).executeTakeFirst(),
    orderAuthorizations: (orderId: string) => db.selectFrom('acme_authorizations').selectAll().where('order_id', '=', orderId).orderBy('identifier_value').execute(),
    updateAuthorization: (trx: AcmeDb, id: string, patch: Updateable<AcmeAuthorizationsTable>) =>
      trx.updateTable('acme_authorizations').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),
    /** Authorizations of an account for which this identifier is already valid (revocation by account). */
    validAuthorizationsFor: (accountId: string, value: string) =>
      db.selectFrom('acme_authorizations').select('id').where('account_id', '=', accountId).where('identifier_value', '=', value).where('status', '=', 'valid').execute(),

    /** Challenges still `processing` that were claimed before the cutoff (or before claims were dated). */
    strandedChallenges: (cutoff: Date, limit: number) =>
      db.selectFrom('acme_challenges').selectAll().where('status', '=', 'processing')
        .where((eb) => eb.or([eb('claimed_at', 'is', null), eb('claimed_at', '<', cutoff)])).limit(limit).execute(),
    /** Takes a stranded challenge over, once across instances: its claim must still be the stale one. */
    reclaimChallenge: (c: { id: string; claimed_at: Date | null }, now: Date) =>
      db.updateTable('acme_challenges').set({ claimed_at: now }).where('id', '=', c.id).where('status', '=', 'processing')
        .where('claimed_at', c.claimed_at === null ? 'is' : '=', c.claimed_at).returningAll().executeTakeFirst(),
    updateChallenge: (trx: AcmeDb, id: string, patch: Updateable<AcmeChallengesTable>) =>
      trx.updateTable('acme_challenges').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),

    eabRequired: async (applicationId: string) =>
      Boolean((await db.selectFrom('acme_settings').select('eab_required').where('application_id', '=', applicationId).executeTakeFirst())?.eab_required),
    setEabRequired: (applicationId: string, required: boolean) =>
      db.insertInto('acme_settings').values({ application_id: applicationId, eab_required: required })
        .onConflict((oc) => oc.column('application_id').doUpdateSet({ eab_required: required })).execute(),
    insertEabKey: (row: Insertable<AcmeEabKeysTable>) => db.insertInto('acme_eab_keys').values(row).returningAll().executeTakeFirstOrThrow(),
    findEabKey: (id: string) => db.selectFrom('acme_eab_keys').selectAll().where('id', '=', id).executeTakeFirst(),
    listEabKeys: (applicationId: string) => db.selectFrom('acme_eab_keys').selectAll().where('application_id', '=', applicationId).orderBy('created_at').execute(),
    /** Binds an unused key to an account; false when another account took it first. */
    bindEabKey: async (trx: AcmeDb, id: string, accountId: string) =>
      Boolean(await trx.updateTable('acme_eab_keys').set({ account_id: accountId }).where('id', '=', id).where('account_id', 'is', null).returning('id').executeTakeFirst()),
  };
}

export type AcmeRepository = ReturnType<typeof createAcmeRepository>;
