import { sql, type Kysely } from 'kysely';

/**
 * ACME, second part (issue 6):
 * - `acme_challenges.claimed_at`: when an instance started validating. A challenge still
 *   `processing` long after the longest possible validation was stranded by a process that died;
 *   the next instance to look resumes it (challenge-runner.ts `recoverStranded`).
 * - `acme_orders.ca_checked_at`: when a client's poll of a `processing` order last asked the CA
 *   (ADCS approval), so polling clients are answered promptly without flooding the CA.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table acme_challenges add column claimed_at timestamptz`.execute(db);
  await sql`alter table acme_orders add column ca_checked_at timestamptz`.execute(db);
  await sql`create index acme_challenges_processing on acme_challenges (claimed_at) where status = 'processing'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists acme_challenges_processing`.execute(db);
  await sql`alter table acme_orders drop column ca_checked_at`.execute(db);
  await sql`alter table acme_challenges drop column claimed_at`.execute(db);
}
