import type { ColumnType, Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.ts';

type Default<T> = ColumnType<T, T | undefined, T>;
type JsonIds = ColumnType<string[], string | undefined, string>;

export type OnRevocation = 'disable' | 'delete';
export type SyncItemState = 'pending' | 'synced' | 'disabled' | 'deleted' | 'failed' | 'skipped';

/** `syncs` (migration 0011). */
export interface SyncsTable {
  id: string;
  name: string;
  type: Default<'azure-key-vault'>;
  connection_id: string;
  vault_url: string;
  application_ids: JsonIds;
  profile_ids: JsonIds;
  on_revocation: Default<OnRevocation>;
  enabled: Default<boolean>;
  last_run_at: Default<Date | null>;
  last_run_error: Default<string | null>;
  created_at: Default<Date>;
  updated_at: Default<Date>;
}

/** `sync_names`: the one Key Vault name of each renewal lineage within a sync. */
export interface SyncNamesTable {
  sync_id: string;
  lineage_id: string;
  vault_name: string;
}

/** `sync_certificates`: where each certificate of a sync stands. */
export interface SyncCertificatesTable {
  sync_id: string;
  certificate_id: string;
  lineage_id: string;
  state: SyncItemState;
  reason: Default<string | null>;
  vault_name: Default<string | null>;
  vault_version: Default<string | null>;
  last_error: Default<string | null>;
  attempts: Default<number>;
  last_synced_at: Default<Date | null>;
  updated_at: Default<Date>;
}

export type SyncRow = Selectable<SyncsTable>;
export type SyncItemRow = Selectable<SyncCertificatesTable>;
type SyncTables = { syncs: SyncsTable; sync_names: SyncNamesTable; sync_certificates: SyncCertificatesTable };
export type SyncDb = Kysely<Database & SyncTables>;

/** The shared database handle, typed with the sync tables. */
export const syncDb = (db: Kysely<Database>): SyncDb => db.withTables<SyncTables>();
