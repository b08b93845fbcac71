import { sql, type Kysely } from 'kysely';

/**
 * Azure connections (issue 8): how Certbridge signs in to Microsoft Entra (OAuth refresh token,
 * client secret or certificate, every secret sealed per row), which cloud it talks to, and the
 * automatic client-secret rotation state. Kept apart from the ADCS `connections` table, whose
 * columns are all ADCS-specific; names are unique across both (checked by the connection service).
 *
 * Rotation columns are the crash-recovery log: `rotation_pending_marker` is written before Graph
 * addPassword is called, `rotation_pending_key_id` + `rotation_pending_secret_sealed` right after
 * it answers, and `rotation_retire_key_id` once the new secret is the working one, so every step
 * can be resumed and neither secret is ever lost.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table azure_connections (
      id uuid primary key,
      name text not null unique,
      type text not null check (type in ('azure-client-secrets','azure-key-vault')),
      method text not null check (method in ('oauth','client-secret','certificate')),
      authority_host text not null,
      ca_pem text,
      graph_url text not null,
      vault_url_template text,
      vault_name text,
      tenant_id text not null,
      client_id text not null,
      secret_sealed text,
      certificate_pem text,
      private_key_sealed text,
      oauth_cache_sealed text,
      oauth_account_id text,
      oauth_username text,
      rotation_enabled boolean not null default false,
      rotation_key_id text,
      rotation_interval_days integer,
      rotation_time text,
      rotation_time_zone text,
      rotation_pending_marker text,
      rotation_pending_key_id text,
      rotation_pending_secret_sealed text,
      rotation_retire_key_id text,
      rotation_attempts integer not null default 0,
      last_rotation_at timestamptz,
      next_rotation_at timestamptz,
      last_error text,
      last_error_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check (method <> 'client-secret' or secret_sealed is not null),
      check (method <> 'certificate' or (certificate_pem is not null and private_key_sealed is not null)),
      check (not rotation_enabled or (method = 'client-secret' and type = 'azure-client-secrets'))
    )`.execute(db);
  await sql`create index azure_connections_rotation_due on azure_connections (next_rotation_at) where rotation_enabled`.execute(db);
  await sql`
    create table azure_oauth_states (
      state_hash text primary key,
      user_id uuid not null references users(id) on delete cascade,
      request jsonb not null,
      code_verifier_sealed text not null,
      expires_at timestamptz not null,
      created_at timestamptz not null default now()
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table azure_oauth_states`.execute(db);
  await sql`drop table azure_connections`.execute(db);
}
