import { sql, type Kysely } from 'kysely';

/**
 * EST and SCEP, the rest of issue 5: retired SCEP RA certificates (kept, with their sealed keys,
 * to open envelopes of clients that fetched the old RA, until `usable_until`), and the EST
 * requests a 202 answer left open, so a client's retry is matched by its CSR and identity
 * (RFC 7030 section 4.2.3) and a server-generated key is handed out once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table scep_retired_ras (
      id uuid primary key,
      settings_id uuid not null references enrollment_settings(id) on delete cascade,
      certificate_der bytea not null,
      key_sealed text not null,
      retired_at timestamptz not null default now(),
      usable_until timestamptz not null
    )`.execute(db);
  await sql`create index scep_retired_ras_settings on scep_retired_ras (settings_id, usable_until)`.execute(db);
  await sql`
    create table est_requests (
      id uuid primary key,
      settings_id uuid not null references enrollment_settings(id) on delete cascade,
      operation text not null check (operation in ('simpleenroll','simplereenroll','serverkeygen')),
      csr_sha256 text not null,
      client_identity text not null,
      order_id uuid not null references orders(id) on delete cascade,
      key_delivered_at timestamptz,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index est_requests_retry on est_requests (settings_id, operation, csr_sha256)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists est_requests`.execute(db);
  await sql`drop table if exists scep_retired_ras`.execute(db);
}
