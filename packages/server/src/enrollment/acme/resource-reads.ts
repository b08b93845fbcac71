import type { CertificateRow } from '../../db/schema.ts';
import type { AcmeOrderRow, AuthorizationRow, ChallengeRow } from './acme-tables.ts';

/**
 * The resource a request names (authorization, order, certificate, challenge), read in the statement
 * that consumes the request's nonce and reads its account (acme-repository.ts
 * `consumeNoncesAndFindAccounts`): a poll then costs one round trip instead of two. The row is
 * handed to the handler only after the JWS, the account and the nonce have been judged, and the
 * handler checks ownership as before; a read in the same statement as the nonce's consumption
 * sees the resource as of a moment after the request arrived, as a separate read would.
 */
export type ResourceRead = { kind: keyof FoundByKind; id: string };

/** What rendering an order needs of its authorizations. */
export interface AuthorizationSummary { id: string; status: AuthorizationRow['status'] }

/** Each kind's row as the repository's own reads return it (undefined: no such resource). */
export interface FoundByKind {
  authz: { authz: AuthorizationRow; challenges: ChallengeRow[] } | undefined;
  order: { order: AcmeOrderRow; authorizations: AuthorizationSummary[] } | undefined;
  cert: Pick<CertificateRow, 'der' | 'chain'> | undefined;
  chall: { challenge: ChallengeRow; authz: AuthorizationRow } | undefined;
}
export type ResourceFound = { [K in keyof FoundByKind]: { kind: K; found: FoundByKind[K] } }[keyof FoundByKind];

/**
 * The column of the batched statement holding each entry's resource as JSON (`req` is the batch:
 * `kind` text, `rid` uuid, `account_id` uuid): an authorization with its challenges by type, an
 * order with its authorizations' ids and statuses by identifier (as orderAuthorizations sorts
 * them), the DER and chain of a certificate issued for one of the account's orders, or a challenge
 * with its authorization.
 */
export const RESOURCE_COLUMN = `case req.kind
  when 'authz' then (select json_build_object('authz', to_json(z), 'challenges',
      (select coalesce(json_agg(c order by c.type), '[]'::json) from acme_challenges c where c.authorization_id = z.id))
    from acme_authorizations z where z.id = req.rid)
  when 'order' then (select json_build_object('order', to_json(o), 'authorizations',
      (select coalesce(json_agg(json_build_object('id', a.id, 'status', a.status) order by a.identifier_value), '[]'::json) from acme_authorizations a where a.order_id = o.id))
    from acme_orders o where o.id = req.rid)
  when 'cert' then (select json_build_object('der', encode(c.der, 'base64'), 'chain', c.chain) from certificates c
    where c.id = req.rid and exists (select 1 from acme_orders o where o.certificate_id = c.id and o.account_id = req.account_id))
  when 'chall' then (select json_build_object('challenge', to_json(c), 'authz', to_json(z))
    from acme_challenges c join acme_authorizations z on z.id = c.authorization_id where c.id = req.rid)
  end`;

type Json = Record<string, unknown>;
/** timestamptz as to_json writes it (ISO 8601 with offset; microseconds cut to milliseconds as the drivers do). */
const date = (v: unknown): Date => new Date(String(v));
const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : date(v));

const authorizationOf = (j: Json): AuthorizationRow => ({ ...(j as unknown as AuthorizationRow), expires_at: date(j['expires_at']) });
const challengeOf = (j: Json): ChallengeRow => ({ ...(j as unknown as ChallengeRow), validated_at: dateOrNull(j['validated_at']), claimed_at: dateOrNull(j['claimed_at']) });
const orderOf = (j: Json): AcmeOrderRow => ({
  ...(j as unknown as AcmeOrderRow), not_before: dateOrNull(j['not_before']), not_after: dateOrNull(j['not_after']), expires_at: date(j['expires_at']),
  ca_checked_at: dateOrNull(j['ca_checked_at']), created_at: date(j['created_at']), updated_at: date(j['updated_at']),
});

/** The JSON of `RESOURCE_COLUMN` as the rows the repository's own reads return. */
export function resourceFound(kind: ResourceRead['kind'], value: unknown): ResourceFound {
  const j = value === null || value === undefined ? undefined : (value as Json);
  switch (kind) {
    case 'authz':
      return { kind, found: j && { authz: authorizationOf(j['authz'] as Json), challenges: (j['challenges'] as Json[]).map(challengeOf) } };
    case 'order':
      return { kind, found: j && { order: orderOf(j['order'] as Json), authorizations: j['authorizations'] as AuthorizationSummary[] } };
    case 'cert':
      return { kind, found: j && { der: Buffer.from(String(j['der']), 'base64'), chain: j['chain'] as string[] } };
    case 'chall':
      return { kind, found: j && { challenge: challengeOf(j['challenge'] as Json), authz: authorizationOf(j['authz'] as Json) } };
  }
}
