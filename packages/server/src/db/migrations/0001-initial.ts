import { sql, type Kysely } from 'kysely';

/**
 * The foundation schema (issue 2). Plain SQL so PGlite and PostgreSQL run the very same text.
 * Secrets live only in `*_sealed` columns (see crypto/sealer.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table users (
      id uuid primary key,
      username text not null unique,
      password_hash text not null,
      role text not null check (role in ('admin','operator','requester','auditor')),
      disabled boolean not null default false,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create table api_tokens (
      id uuid primary key,
      user_id uuid not null references users(id) on delete cascade,
      name text not null,
      token_hash text not null unique,
      prefix text not null,
      expires_at timestamptz,
      revoked_at timestamptz,
      last_used_at timestamptz,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create table sessions (
      id uuid primary key,
      user_id uuid not null references users(id) on delete cascade,
      token_hash text not null unique,
      csrf_token text not null,
      expires_at timestamptz not null,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create table login_failures (
      id bigserial primary key,
      throttle_key text not null,
      failed_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index login_failures_key_time on login_failures (throttle_key, failed_at)`.execute(db);

  await sql`
    create table cas (
      id uuid primary key,
      name text not null unique,
      type text not null,
      status text not null default 'active',
      parent_id uuid references cas(id),
      subject text,
      serial_hex text,
      key_algorithm text,
      certificate_der bytea,
      chain jsonb not null default '[]',
      private_key_sealed text,
      not_before timestamptz,
      not_after timestamptz,
      settings jsonb not null default '{}',
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create table crls (
      ca_id uuid primary key references cas(id) on delete cascade,
      crl_number bigint not null,
      der bytea not null,
      this_update timestamptz not null,
      next_update timestamptz not null
    )`.execute(db);
  await sql`
    create table policies (
      id uuid primary key,
      name text not null unique,
      description text not null default '',
      rules jsonb not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create table profiles (
      id uuid primary key,
      slug text not null unique,
      name text not null,
      ca_id uuid not null references cas(id),
      policy_id uuid not null references policies(id),
      defaults jsonb not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create table applications (
      id uuid primary key,
      name text not null unique,
      description text not null default '',
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create table application_profiles (
      application_id uuid not null references applications(id) on delete cascade,
      profile_id uuid not null references profiles(id) on delete cascade,
      primary key (application_id, profile_id)
    )`.execute(db);
  await sql`
    create table application_members (
      application_id uuid not null references applications(id) on delete cascade,
      user_id uuid not null references users(id) on delete cascade,
      role text not null check (role in ('owner','requester','viewer')),
      primary key (application_id, user_id)
    )`.execute(db);
  await sql`create index application_members_user on application_members (user_id)`.execute(db);

  await sql`
    create table orders (
      id uuid primary key,
      application_id uuid not null references applications(id),
      profile_id uuid not null references profiles(id),
      ca_id uuid not null references cas(id),
      requester_id uuid references users(id),
      protocol text not null,
      status text not null check (status in ('pending','issued','denied','failed','cancelled')),
      csr_der bytea,
      subject text not null,
      sans jsonb not null,
      key_algorithm text,
      server_key_sealed text,
      ca_request_id text,
      ca_server text,
      template text,
      disposition text,
      hresult text,
      error jsonb,
      attempts integer not null default 0,
      next_poll_at timestamptz,
      certificate_id uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index orders_app_created on orders (application_id, created_at desc, id desc)`.execute(db);
  await sql`create index orders_poll on orders (next_poll_at) where status = 'pending'`.execute(db);

  await sql`
    create table certificates (
      id uuid primary key,
      ca_id uuid not null references cas(id),
      order_id uuid references orders(id),
      application_id uuid references applications(id),
      profile_id uuid references profiles(id),
      requester_id uuid references users(id),
      serial_hex text not null,
      subject text not null,
      sans jsonb not null,
      search_text text not null,
      key_algorithm text,
      fingerprint_sha256 text not null,
      not_before timestamptz not null,
      not_after timestamptz not null,
      status text not null default 'active' check (status in ('active','revoked')),
      revoked_at timestamptz,
      revocation_reason text,
      der bytea not null,
      chain jsonb not null default '[]',
      private_key_sealed text,
      renewed_from_id uuid references certificates(id),
      created_at timestamptz not null default now(),
      unique (ca_id, serial_hex)
    )`.execute(db);
  // Keyset pagination: every listing orders by (created_at desc, id desc) within its filter.
  await sql`create index certificates_created on certificates (created_at desc, id desc)`.execute(db);
  await sql`create index certificates_app_created on certificates (application_id, created_at desc, id desc)`.execute(db);
  await sql`create index certificates_ca_created on certificates (ca_id, created_at desc, id desc)`.execute(db);
  await sql`create index certificates_profile_created on certificates (profile_id, created_at desc, id desc)`.execute(db);
  await sql`create index certificates_not_after on certificates (not_after)`.execute(db);
  await sql`create index certificates_serial on certificates (serial_hex)`.execute(db);
  await sql`create index certificates_revoked on certificates (ca_id) where status = 'revoked'`.execute(db);

  await sql`
    create table settings (
      key text primary key,
      value jsonb not null,
      sealed text
    )`.execute(db);
  await sql`
    create table audit_log (
      seq bigserial primary key,
      id uuid not null unique,
      occurred_at timestamptz not null,
      actor_type text not null,
      actor_id text,
      actor_name text,
      action text not null,
      resource_type text not null,
      resource_id text,
      outcome text not null,
      details jsonb not null,
      -- The writing transaction: rows are chained only once every older transaction has ended.
      xid xid8 not null default pg_current_xact_id(),
      -- Position in the hash chain, and the chain link; null until the chainer reaches the row.
      chain_pos bigint unique,
      prev_hash text,
      hash text
    )`.execute(db);
  await sql`create index audit_log_unchained on audit_log (seq) where chain_pos is null`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the initial migration cannot be reverted');
}
