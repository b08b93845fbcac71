import { sql, type Kysely } from 'kysely';

/**
 * ADCS as an external CA (issue 4): connections (credentials sealed), the servers of an ADCS CA
 * with their priority and last health check, the per-server template cache, the template a
 * profile enrolls in, the pending lifetime, and the "still to revoke at the CA" marker.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table connections (
      id uuid primary key,
      name text not null unique,
      type text not null check (type in ('adcs')),
      url text not null,
      domain text not null,
      username text not null,
      password_sealed text not null,
      auth text not null check (auth in ('ntlm','kerberos','negotiate','basic')),
      ca_pem text,
      reject_unauthorized boolean not null default true,
      timeout_ms integer not null default 30000,
      max_sockets integer not null default 4,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create table ca_servers (
      ca_id uuid not null references cas(id) on delete cascade,
      connection_id uuid not null references connections(id),
      priority integer not null,
      max_requests_per_second integer not null default 20,
      last_check_at timestamptz,
      last_check_ok boolean,
      last_error text,
      primary key (ca_id, connection_id)
    )`.execute(db);
  await sql`create index ca_servers_connection on ca_servers (connection_id)`.execute(db);
  await sql`
    create table adcs_templates (
      connection_id uuid not null references connections(id) on delete cascade,
      name text not null,
      display_name text not null,
      kind text not null,
      refreshed_at timestamptz not null,
      primary key (connection_id, name)
    )`.execute(db);
  await sql`alter table profiles add column template text`.execute(db);
  await sql`alter table profiles add column broken_reason text`.execute(db);
  await sql`alter table profiles add column pending_lifetime_days integer not null default 30`.execute(db);
  await sql`alter table orders add column warning text`.execute(db);
  await sql`alter table certificates add column ca_revocation_pending boolean not null default false`.execute(db);
  await sql`create index orders_ca_created on orders (ca_id, created_at desc, id desc)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index orders_ca_created`.execute(db);
  await sql`alter table certificates drop column ca_revocation_pending`.execute(db);
  await sql`alter table orders drop column warning`.execute(db);
  await sql`alter table profiles drop column pending_lifetime_days`.execute(db);
  await sql`alter table profiles drop column broken_reason`.execute(db);
  await sql`alter table profiles drop column template`.execute(db);
  await sql`drop table adcs_templates`.execute(db);
  await sql`drop table ca_servers`.execute(db);
  await sql`drop table connections`.execute(db);
}
