import { sql, type Kysely } from 'kysely';

/**
 * Two ACME lookups that read whole tables, each getting slower as a directory issues more:
 * - newOrder's per-identifier rate limit counts the directory's recent authorizations of each
 *   identifier (new-order-statement.ts), and an account's valid authorizations for an identifier
 *   are looked up by value: both by `identifier_value` (then account).
 * - Downloading or revoking a certificate checks that an order of the account holds it
 *   (resource-reads.ts, acme-repository.ts): by `certificate_id`, set only once an order is valid.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index acme_authorizations_identifier on acme_authorizations (identifier_value, account_id)`.execute(db);
  await sql`create index acme_orders_certificate on acme_orders (certificate_id) where certificate_id is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists acme_orders_certificate`.execute(db);
  await sql`drop index if exists acme_authorizations_identifier`.execute(db);
}
