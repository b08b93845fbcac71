import { sql, type Kysely } from 'kysely';

/**
 * Key Vault certificate syncs (issue 8). `syncs` holds what goes where; `sync_names` pins one Key
 * Vault certificate name per renewal lineage (the first certificate of the lineage), so every
 * renewal becomes a new version of the same vault certificate and a name never changes once
 * given; `sync_certificates` is the per-certificate status the API shows.
 *
 * `connection_id` has no foreign key: Azure connections live in their own table, and a sync whose
 * connection was removed reports that on its next run instead of blocking the removal.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table syncs (
      id uuid primary key,
      name text not null unique,
      type text not null default 'azure-key-vault' check (type in ('azure-key-vault')),
      connection_id uuid not null,
      vault_url text not null,
      application_ids jsonb not null default '[]',
      profile_ids jsonb not null default '[]',
      on_revocation text not null default 'disable' check (on_revocation in ('disable','delete')),
      enabled boolean not null default true,
      last_run_at timestamptz,
      last_run_error text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create table sync_names (
      sync_id uuid not null references syncs(id) on delete cascade,
      lineage_id uuid not null,
      vault_name text not null,
      primary key (sync_id, lineage_id),
      unique (sync_id, vault_name)
    )`.execute(db);
  await sql`
    create table sync_certificates (
      sync_id uuid not null references syncs(id) on delete cascade,
      certificate_id uuid not null references certificates(id) on delete cascade,
      lineage_id uuid not null,
      state text not null check (state in ('pending','synced','disabled','deleted','failed','skipped')),
      reason text,
      vault_name text,
      vault_version text,
      last_error text,
      attempts integer not null default 0,
      last_synced_at timestamptz,
      updated_at timestamptz not null default now(),
      primary key (sync_id, certificate_id)
    )`.execute(db);
  await sql`create index sync_certificates_lineage on sync_certificates (sync_id, lineage_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table sync_certificates`.execute(db);
  await sql`drop table sync_names`.execute(db);
  await sql`drop table syncs`.execute(db);
}
