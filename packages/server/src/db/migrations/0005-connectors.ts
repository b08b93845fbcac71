import { sql, type Kysely } from 'kysely';

/**
 * On-prem connectors (issue 7): the agents themselves (one-time registration token hashed, client
 * certificate serial, heartbeat) and the jobs routed to them through the database, so a job
 * created on one server instance reaches the socket another instance holds.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table connectors (
      id uuid primary key,
      name text not null unique,
      site text not null default '',
      status text not null default 'pending' check (status in ('pending','active','revoked')),
      token_hash text,
      token_expires_at timestamptz,
      serial_hex text,
      cert_not_after timestamptz,
      version text,
      last_heartbeat_at timestamptz,
      jobs_done integer not null default 0,
      jobs_failed integer not null default 0,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create table connector_jobs (
      id uuid primary key,
      connector_id uuid not null references connectors(id) on delete cascade,
      kind text not null,
      payload jsonb not null,
      status text not null default 'queued' check (status in ('queued','sent','done','failed')),
      result jsonb,
      error text,
      instance text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index connector_jobs_queue on connector_jobs (connector_id, status, created_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table connector_jobs`.execute(db);
  await sql`drop table connectors`.execute(db);
}
