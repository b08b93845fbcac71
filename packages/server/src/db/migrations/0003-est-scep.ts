import { sql, type Kysely } from 'kysely';

/**
 * EST and SCEP enrollment (issue 5): one enrollment setting per profile, owned by the
 * application it serves (EST authentication with a sealed Basic secret and/or a TLS client
 * certificate; SCEP static sealed challenge or dynamic one-time challenges; the SCEP RA
 * certificate with its sealed key), the one-time challenges (hashed), and the SCEP transactions
 * that let CertPoll and a repeated PKCSReq find their order.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table enrollment_settings (
      id uuid primary key,
      application_id uuid not null references applications(id) on delete cascade,
      profile_id uuid not null unique references profiles(id) on delete cascade,
      est_enabled boolean not null default false,
      est_auth text not null default 'basic' check (est_auth in ('basic','certificate','both')),
      est_username text,
      est_secret_sealed text,
      est_default boolean not null default false,
      scep_enabled boolean not null default false,
      scep_challenge text not null default 'static' check (scep_challenge in ('static','dynamic')),
      scep_static_sealed text,
      scep_challenge_ttl_seconds integer not null default 3600,
      ra_certificate_der bytea,
      ra_key_sealed text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`create unique index enrollment_settings_one_est_default on enrollment_settings (est_default) where est_default`.execute(db);
  await sql`create index enrollment_settings_application on enrollment_settings (application_id)`.execute(db);
  await sql`
    create table scep_challenges (
      id uuid primary key,
      settings_id uuid not null references enrollment_settings(id) on delete cascade,
      challenge_hash text not null unique,
      expires_at timestamptz not null,
      used_at timestamptz,
      created_by uuid,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create table scep_transactions (
      settings_id uuid not null references enrollment_settings(id) on delete cascade,
      transaction_id text not null,
      request_sha256 text not null,
      order_id uuid not null references orders(id) on delete cascade,
      created_at timestamptz not null default now(),
      primary key (settings_id, transaction_id)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table scep_transactions`.execute(db);
  await sql`drop table scep_challenges`.execute(db);
  await sql`drop table enrollment_settings`.execute(db);
}
