import { CompiledQuery, type Insertable } from 'kysely';
import { ASYNC_COMMIT_FROM } from '../../db/async-commit.ts';
import type { AcmeAuthorizationsTable, AcmeChallengesTable, AcmeDb, AcmeOrderRow } from './acme-tables.ts';

/**
 * newOrder's one statement (RFC 8555 section 7.4): the rate-limit counts — new orders of the
 * account, and per identifier across the directory's accounts, since a moment — and, only when
 * every count is under its limit, the order with its authorizations and challenges (data-modifying
 * CTEs run as one atomic statement; the foreign keys are checked at its end). Written out once,
 * with the variable parts as arrays, so its text never changes and the query builder does not
 * rebuild it on every order. The counts come back either way, so a refusal can say which limit.
 *
 * Parameters: $1 account, $2 since, $3 profile, $4 identifier values, $5 account limit, $6 identifier
 * limit, $7 order id, $8 identifiers (JSON), $9 expires, $10 created; authorizations $11-$14 (id,
 * type, value, wildcard); challenges $15-$18 (id, authorization id, type, token). The parameters
 * that steer the plan are read through `(select $n)` so that PostgreSQL plans it once per
 * connection (db/prepared-statements.ts).
 *
 * The identifier count joins the account through the authorization's own `account_id` (the same
 * as its order's), so that the plan can start from the identifier index and reach each order by
 * its key. Joined through the order, the generic plan read every order of the window and probed
 * each one's authorizations: its cost grew with the directory's traffic (40 ms per newOrder at
 * 10,000 orders in the window on tables autovacuum had not analysed yet, against 0.3 ms now).
 *
 * Its commit does not wait for the WAL flush (db/async-commit.ts): only a crash of PostgreSQL
 * itself in the next fraction of a second can lose the order, and its client then finds the order
 * URL unknown and orders again, as after any failed order. Its certificate, if any, is written by
 * a commit that waits, and that flush carries the order with it.
 */
export const INSERT_ORDER_WITHIN_LIMITS = `
  with counts as (
    select (select count(*)::int from acme_orders where account_id = (select $1::uuid) and created_at >= (select $2::timestamptz)) as account,
      array(select (select count(*)::int from acme_authorizations a join acme_accounts ac on ac.id = a.account_id join acme_orders o on o.id = a.order_id
          where a.identifier_value = v.value and ac.profile_id = (select $3::uuid) and o.created_at >= (select $2::timestamptz))
        from unnest((select $4::text[])) with ordinality as v(value, n) order by v.n) as identifiers
  ), allowed as (
    select 1 from counts where account < $5 and $6 > all (identifiers)
  ), new_order as (
    insert into acme_orders (id, account_id, status, identifiers, expires_at, created_at)
    select $7, $1, 'pending', $8::jsonb, $9, $10 from allowed returning *
  ), new_authorizations as (
    insert into acme_authorizations (id, order_id, account_id, identifier_type, identifier_value, wildcard, status, expires_at)
    select x.id, $7, $1, x.type, x.value, x.wildcard, 'pending', $9
    from unnest((select $11::uuid[]), (select $12::text[]), (select $13::text[]), (select $14::boolean[])) as x(id, type, value, wildcard), allowed
  ), new_challenges as (
    insert into acme_challenges (id, authorization_id, type, token, status)
    select y.id, y.authorization_id, y.type, y.token, 'pending'
    from unnest((select $15::uuid[]), (select $16::uuid[]), (select $17::text[]), (select $18::text[])) as y(id, authorization_id, type, token), allowed
  )
  select counts.account as rate_account, array_to_string(counts.identifiers, ',') as rate_identifiers, new_order.*
  from counts cross join ${ASYNC_COMMIT_FROM} left join new_order on true`;

export interface NewOrderTree {
  order: { id: string; account_id: string; identifiers: string; expires_at: Date; created_at: Date };
  authorizations: Pick<Insertable<AcmeAuthorizationsTable>, 'id' | 'identifier_type' | 'identifier_value' | 'wildcard'>[];
  challenges: Pick<Insertable<AcmeChallengesTable>, 'id' | 'authorization_id' | 'type' | 'token'>[];
}

export interface RateWindow { profileId: string; since: Date; values: string[]; accountLimit: number; identifierLimit: number }

/** The inserted order (undefined when a limit was reached) and the counts it was judged by. */
export async function insertOrderWithinLimits(db: AcmeDb, tree: NewOrderTree, rate: RateWindow): Promise<{ order: AcmeOrderRow | undefined; counts: { account: number; identifiers: number[] } }> {
  const { order: o, authorizations: a, challenges: c } = tree;
  const { rows } = await db.executeQuery<AcmeOrderRow & { rate_account: number; rate_identifiers: string }>(CompiledQuery.raw(INSERT_ORDER_WITHIN_LIMITS, [
    o.account_id, rate.since, rate.profileId, rate.values, rate.accountLimit, rate.identifierLimit, o.id, o.identifiers, o.expires_at, o.created_at,
    a.map((x) => x.id), a.map((x) => x.identifier_type), a.map((x) => x.identifier_value), a.map((x) => x.wildcard ?? false),
    c.map((x) => x.id), c.map((x) => x.authorization_id), c.map((x) => x.type), c.map((x) => x.token),
  ]));
  const { rate_account: account, rate_identifiers: identifiers, ...order } = rows[0]!;
  return {
    order: order.id ? order : undefined,
    counts: { account: Number(account), identifiers: identifiers ? identifiers.split(',').map(Number) : [] },
  };
}
