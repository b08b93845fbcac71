import { sql, type Kysely } from 'kysely';

/**
 * "Rotate now" (POST /api/v1/connections/{id}/rotate-secret) must not start while another run of
 * the same connection is under way, whenever the schedule says the next one is due. A scheduled
 * run's claim used to live only in next_rotation_at (moved to the end of its lease), which cannot
 * tell a lease from a retry five minutes away; the claim now has its own column.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table azure_connections add column rotation_claimed_until timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table azure_connections drop column rotation_claimed_until`.execute(db);
}
