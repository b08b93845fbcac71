import type { ColumnType, Kysely, Selectable } from 'kysely';
import type { Database } from '../../db/schema.ts';

type Default<T> = ColumnType<T, T | undefined, T>;
type Json<T> = ColumnType<T, string, string>;

export const AZURE_CONNECTION_TYPES = ['azure-client-secrets', 'azure-key-vault'] as const;
export type AzureConnectionType = (typeof AZURE_CONNECTION_TYPES)[number];
export const AZURE_METHODS = ['oauth', 'client-secret', 'certificate'] as const;
export type AzureMethod = (typeof AZURE_METHODS)[number];

/** Migration 0006-azure. */
export interface AzureConnectionsTable {
  id: string;
  name: string;
  type: AzureConnectionType;
  method: AzureMethod;
  authority_host: string;
  ca_pem: string | null;
  graph_url: string;
  /** Key Vault URL with `{vault}` where the vault name goes; null for a custom cloud without one (vaults are then named by URL). */
  vault_url_template: string | null;
  /** Default vault: a name, or a full URL. */
  vault_name: string | null;
  tenant_id: string;
  client_id: string;
  secret_sealed: Default<string | null>;
  certificate_pem: Default<string | null>;
  private_key_sealed: Default<string | null>;
  /** msal-node's serialized token cache (refresh token included), sealed. */
  oauth_cache_sealed: Default<string | null>;
  oauth_account_id: Default<string | null>;
  oauth_username: Default<string | null>;
  rotation_enabled: Default<boolean>;
  rotation_key_id: Default<string | null>;
  rotation_interval_days: Default<number | null>;
  /** Local time of day, `HH:MM`, in `rotation_time_zone` (IANA). */
  rotation_time: Default<string | null>;
  rotation_time_zone: Default<string | null>;
  rotation_pending_marker: Default<string | null>;
  rotation_pending_key_id: Default<string | null>;
  rotation_pending_secret_sealed: Default<string | null>;
  rotation_retire_key_id: Default<string | null>;
  rotation_attempts: Default<number>;
  last_rotation_at: Default<Date | null>;
  next_rotation_at: Default<Date | null>;
  /** Set while a run holds the rotation (scheduled or "rotate now"); a crashed run's claim lapses. */
  rotation_claimed_until: Default<Date | null>;
  last_error: Default<string | null>;
  last_error_at: Default<Date | null>;
  created_at: Default<Date>;
  updated_at: Default<Date>;
}

/** What an OAuth start asked for, replayed when the callback completes it. */
export interface OauthRequest {
  name: string;
  type: AzureConnectionType;
  tenantId: string;
  authorityHost: string;
  caPem: string | null;
  graphUrl: string;
  vaultUrlTemplate: string | null;
  vaultName: string | null;
  loginHint: string | null;
  /** Where the browser goes once the callback is done (same origin path only). */
  returnTo: string | null;
}

export interface AzureOauthStatesTable {
  /** SHA-256 of the state value: a database reader cannot replay a live state. */
  state_hash: string;
  user_id: string;
  request: Json<OauthRequest>;
  code_verifier_sealed: string;
  expires_at: Date;
  created_at: Default<Date>;
}

export type AzureTables = { azure_connections: AzureConnectionsTable; azure_oauth_states: AzureOauthStatesTable };
export type AzureDb = Kysely<Database & AzureTables>;
export const azureDb = (db: Kysely<Database>): AzureDb => db.withTables<AzureTables>();
export type AzureConnectionRow = Selectable<AzureConnectionsTable>;

/** Sealing contexts (crypto/sealer.ts): a sealed value only opens on its own row and field. */
export const sealContext = {
  secret: (id: string) => `azure-connection:${id}:client-secret`,
  pendingSecret: (id: string) => `azure-connection:${id}:pending-client-secret`,
  privateKey: (id: string) => `azure-connection:${id}:certificate-key`,
  oauthCache: (id: string) => `azure-connection:${id}:oauth-cache`,
  codeVerifier: (stateHash: string) => `azure-oauth-state:${stateHash}`,
};
