import { CompiledQuery } from 'kysely';
import { ASYNC_COMMIT_FROM } from '../../db/async-commit.ts';
import type { AcmeDb, AcmeOrderRow, AuthorizationRow, ChallengeRow } from './acme-tables.ts';

/**
 * The statements every ACME order runs once or more (challenge claim and settlement, finalize's
 * claim), written out once: building and compiling them with the query builder cost
 * more server CPU per order than any of them costs PostgreSQL. Same SQL as the builder made, same
 * rows back; acme-repository.ts documents what each one means.
 *
 * None of them waits for the WAL flush (db/async-commit.ts). Should PostgreSQL itself crash right
 * after one, the challenge or order is found as it was before: a claim lost is a challenge still
 * pending, a settlement lost leaves it claimed until the claim goes stale and another validation
 * takes over, finalize's claim lost leaves the order ready. The issuance that follows a finalize
 * claim waits for the flush, which carries the claim with it.
 */

/** A challenge's columns next to its authorization's, prefixed so the two do not collide. */
const CHALLENGE_COLUMNS = `c.id as c_id, c.type as c_type, c.token as c_token, c.status as c_status, c.validated_at as c_validated_at,
  c.error as c_error, c.attempts as c_attempts, c.claimed_at as c_claimed_at`;

/** $1 challenge, $2 account, $3 now. The select sees the challenge as it was before the claim. */
const CLAIM_CHALLENGE = `
  with claimed as (
    update acme_challenges c set status = 'processing', claimed_at = $3 from acme_authorizations a
    where a.id = c.authorization_id and c.id = $1 and c.status = 'pending' and a.account_id = $2 and a.status = 'pending' and a.expires_at > $3
    returning c.id as claimed_id, c.claimed_at as claimed_at_now
  )
  select a.*, ${CHALLENGE_COLUMNS}, claimed.claimed_id, claimed.claimed_at_now
  from acme_challenges c join acme_authorizations a on a.id = c.authorization_id left join claimed on claimed.claimed_id = c.id
    cross join ${ASYNC_COMMIT_FROM}
  where c.id = $1`;

/** $1 challenge, $2 authorization, $3 order, $4 now, $5 validated at. */
const SETTLE_VALID = `
  with authz as (update acme_authorizations set status = 'valid' where id = $2 returning id),
  ord as (
    update acme_orders set status = 'ready', updated_at = $4 where id = $3 and status = 'pending'
      and not exists (select id from acme_authorizations where order_id = $3 and id != $2 and status != 'valid')
    returning id
  )
  update acme_challenges set status = 'valid', validated_at = $5, error = null from ${ASYNC_COMMIT_FROM} where id = $1 returning acme_challenges.*`;

/**
 * A validation that passed before the challenge was claimed (challenge-runner.ts `respond`), settled
 * from pending in one statement: $1 challenge, $2 authorization, $3 order, $4 now, $5 validated at,
 * $6 account. Nothing changes unless the challenge is still pending and its authorization still the
 * account's, pending and unexpired; another response or instance that claimed it meanwhile wins.
 */
const SETTLE_VALID_FROM_PENDING = `
  with challenge as (
    update acme_challenges c set status = 'valid', validated_at = $5, error = null, claimed_at = $4 from acme_authorizations a
    where c.id = $1 and c.status = 'pending' and a.id = c.authorization_id and a.id = $2 and a.account_id = $6 and a.status = 'pending' and a.expires_at > $4
    returning c.*
  ),
  authz as (update acme_authorizations set status = 'valid' where id = $2 and exists (select 1 from challenge) returning id),
  ord as (
    update acme_orders set status = 'ready', updated_at = $4 where id = $3 and status = 'pending' and exists (select 1 from challenge)
      and not exists (select id from acme_authorizations where order_id = $3 and id != $2 and status != 'valid')
    returning id
  )
  select challenge.* from challenge cross join ${ASYNC_COMMIT_FROM}`;

/** $1 challenge, $2 authorization, $3 order, $4 now, $5 the problem (JSON). */
const SETTLE_INVALID = `
  with authz as (update acme_authorizations set status = 'invalid' where id = $2 returning id),
  ord as (update acme_orders set status = 'invalid', error = $5::jsonb, updated_at = $4 where id = $3 and status = 'pending' returning id)
  update acme_challenges set status = 'invalid', error = $5::jsonb from ${ASYNC_COMMIT_FROM} where id = $1 returning acme_challenges.*`;

/**
 * $1 order, $2 account, $3 now, $4 the id the issuance order will have (migration 0020: from then on
 * the ACME order follows it); the authorizations' `id:status` by identifier come along for rendering.
 */
const CLAIM_FOR_FINALIZE = `
  update acme_orders set status = 'processing', issuance_order_id = $4, updated_at = $3 from ${ASYNC_COMMIT_FROM} where id = $1 and account_id = $2 and status = 'ready'
  returning acme_orders.*, (select string_agg(a.id::text || ':' || a.status, ',' order by a.identifier_value) from acme_authorizations a where a.order_id = acme_orders.id) as authz_summary`;

type PrefixedChallenge = { [K in keyof ChallengeRow as K extends 'authorization_id' ? never : `c_${K & string}`]: ChallengeRow[K] };

const first = async <R>(db: AcmeDb, text: string, parameters: unknown[]): Promise<R | undefined> => (await db.executeQuery<R>(CompiledQuery.raw(text, parameters))).rows[0];

export const orderPathStatements = {
  async claimChallenge(db: AcmeDb, id: string, accountId: string, now: Date) {
    const row = await first<AuthorizationRow & PrefixedChallenge & { claimed_id: string | null; claimed_at_now: Date | null }>(db, CLAIM_CHALLENGE, [id, accountId, now]);
    if (!row) return undefined;
    const { c_id, c_type, c_token, c_status, c_validated_at, c_error, c_attempts, c_claimed_at, claimed_id: claimedId, claimed_at_now: claimedAt, ...authz } = row;
    const challenge: ChallengeRow = { id: c_id, authorization_id: authz.id, type: c_type, token: c_token, status: c_status, validated_at: c_validated_at, error: c_error, attempts: c_attempts, claimed_at: c_claimed_at };
    return claimedId ? { challenge: { ...challenge, status: 'processing' as const, claimed_at: claimedAt }, authz, claimed: true } : { challenge, authz, claimed: false };
  },
  async settle(db: AcmeDb, c: { challengeId: string; authorizationId: string; orderId: string }, outcome: { validatedAt: Date } | { error: string }): Promise<ChallengeRow> {
    const [text, last] = 'validatedAt' in outcome ? [SETTLE_VALID, outcome.validatedAt] : [SETTLE_INVALID, outcome.error];
    const row = await first<ChallengeRow>(db, text, [c.challengeId, c.authorizationId, c.orderId, new Date(), last]);
    if (!row) throw new Error(`challenge ${c.challengeId} was not found when its validation was settled`);
    return row;
  },
  settleValidFromPending: (db: AcmeDb, c: { challengeId: string; authorizationId: string; orderId: string }, accountId: string, validatedAt: Date) =>
    first<ChallengeRow>(db, SETTLE_VALID_FROM_PENDING, [c.challengeId, c.authorizationId, c.orderId, new Date(), validatedAt, accountId]),
  claimForFinalize: (db: AcmeDb, id: string, accountId: string, issuanceOrderId: string, now: Date) =>
    first<AcmeOrderRow & { authz_summary: string | null }>(db, CLAIM_FOR_FINALIZE, [id, accountId, now, issuanceOrderId]),
};
