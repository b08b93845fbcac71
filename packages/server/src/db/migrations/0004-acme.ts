import { sql, type Kysely } from 'kysely';

/**
 * ACME (issue 6, RFC 8555): nonces, accounts, orders, authorizations and challenges live in the
 * database so that several server instances serve one directory; EAB keys per application.
 * An ACME order points at the issuance order (`orders`) once finalize has submitted it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table acme_nonces (
      nonce text primary key,
      expires_at timestamptz not null
    )`.execute(db);
  await sql`create index acme_nonces_expiry on acme_nonces (expires_at)`.execute(db);
  await sql`
    create table acme_eab_keys (
      id text primary key,
      application_id uuid not null references applications(id) on delete cascade,
      hmac_sealed text not null,
      identifier_patterns jsonb not null default '[]',
      account_id uuid,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create table acme_settings (
      application_id uuid primary key references applications(id) on delete cascade,
      eab_required boolean not null default false
    )`.execute(db);
  await sql`
    create table acme_accounts (
      id uuid primary key,
      profile_id uuid not null references profiles(id) on delete cascade,
      application_id uuid not null references applications(id) on delete cascade,
      thumbprint text not null,
      jwk jsonb not null,
      status text not null check (status in ('valid','deactivated','revoked')),
      contact jsonb not null default '[]',
      eab_key_id text references acme_eab_keys(id),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (profile_id, thumbprint)
    )`.execute(db);
  await sql`
    create table acme_orders (
      id uuid primary key,
      account_id uuid not null references acme_accounts(id) on delete cascade,
      status text not null check (status in ('pending','ready','processing','valid','invalid')),
      identifiers jsonb not null,
      not_before timestamptz,
      not_after timestamptz,
      expires_at timestamptz not null,
      error jsonb,
      issuance_order_id uuid references orders(id),
      certificate_id uuid references certificates(id),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index acme_orders_account on acme_orders (account_id, created_at desc)`.execute(db);
  await sql`
    create table acme_authorizations (
      id uuid primary key,
      order_id uuid not null references acme_orders(id) on delete cascade,
      account_id uuid not null references acme_accounts(id) on delete cascade,
      identifier_type text not null check (identifier_type in ('dns','ip')),
      identifier_value text not null,
      wildcard boolean not null default false,
      status text not null check (status in ('pending','valid','invalid','deactivated','expired','revoked')),
      expires_at timestamptz not null
    )`.execute(db);
  await sql`create index acme_authorizations_order on acme_authorizations (order_id)`.execute(db);
  await sql`
    create table acme_challenges (
      id uuid primary key,
      authorization_id uuid not null references acme_authorizations(id) on delete cascade,
      type text not null check (type in ('http-01','dns-01','tls-alpn-01')),
      token text not null,
      status text not null check (status in ('pending','processing','valid','invalid')),
      validated_at timestamptz,
      error jsonb,
      attempts integer not null default 0
    )`.execute(db);
  await sql`create index acme_challenges_authorization on acme_challenges (authorization_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['acme_challenges', 'acme_authorizations', 'acme_orders', 'acme_accounts', 'acme_settings', 'acme_eab_keys', 'acme_nonces']) {
    await sql`drop table ${sql.table(table)}`.execute(db);
  }
}
