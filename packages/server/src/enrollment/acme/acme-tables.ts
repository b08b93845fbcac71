import type { ColumnType, Kysely, Selectable } from 'kysely';
import type { Database } from '../../db/schema.ts';

type Default<T> = ColumnType<T, T | undefined, T>;
type Json<T> = ColumnType<T, string, string>;

export type AcmeIdentifier = { type: 'dns' | 'ip'; value: string };
export type AcmeOrderStatus = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';
export type AcmeChallengeType = 'http-01' | 'dns-01' | 'tls-alpn-01';
/** An RFC 7807 problem as stored on orders and challenges. */
export type StoredProblem = { type: string; detail: string; status?: number };

export interface AcmeNoncesTable { nonce: string; expires_at: Date }

export interface AcmeEabKeysTable {
  id: string;
  application_id: string;
  hmac_sealed: string;
  identifier_patterns: ColumnType<string[], string | undefined, string>;
  account_id: Default<string | null>;
  created_at: Default<Date>;
}

export interface AcmeSettingsTable { application_id: string; eab_required: boolean }

export interface AcmeAccountsTable {
  id: string;
  profile_id: string;
  application_id: string;
  thumbprint: string;
  jwk: Json<Record<string, unknown>>;
  status: 'valid' | 'deactivated' | 'revoked';
  contact: ColumnType<string[], string | undefined, string>;
  eab_key_id: string | null;
  created_at: Default<Date>;
  updated_at: Default<Date>;
}

export interface AcmeOrdersTable {
  id: string;
  account_id: string;
  status: AcmeOrderStatus;
  identifiers: Json<AcmeIdentifier[]>;
  not_before: Date | null;
  not_after: Date | null;
  expires_at: Date;
  error: ColumnType<StoredProblem | null, string | null, string | null>;
  issuance_order_id: string | null;
  certificate_id: string | null;
  /** Last time a client's poll asked the CA about this (processing) order (migration 0012). */
  ca_checked_at: Default<Date | null>;
  created_at: Default<Date>;
  updated_at: Default<Date>;
}

export interface AcmeAuthorizationsTable {
  id: string;
  order_id: string;
  account_id: string;
  identifier_type: 'dns' | 'ip';
  identifier_value: string;
  wildcard: boolean;
  status: 'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';
  expires_at: Date;
}

export interface AcmeChallengesTable {
  id: string;
  authorization_id: string;
  type: AcmeChallengeType;
  token: string;
  status: 'pending' | 'processing' | 'valid' | 'invalid';
  validated_at: Date | null;
  error: ColumnType<StoredProblem | null, string | null, string | null>;
  attempts: Default<number>;
  /** When the validating instance claimed it (migration 0012); null on rows from before. */
  claimed_at: Default<Date | null>;
}

/** The tables of migrations 0004-acme and 0012-acme-more, added to the shared schema without editing it. */
export type AcmeTables = {
  acme_nonces: AcmeNoncesTable;
  acme_eab_keys: AcmeEabKeysTable;
  acme_settings: AcmeSettingsTable;
  acme_accounts: AcmeAccountsTable;
  acme_orders: AcmeOrdersTable;
  acme_authorizations: AcmeAuthorizationsTable;
  acme_challenges: AcmeChallengesTable;
};

export type AcmeDb = Kysely<Database & AcmeTables>;
export const acmeDb = (db: Kysely<Database>): AcmeDb => db.withTables<AcmeTables>();

export type AccountRow = Selectable<AcmeAccountsTable>;
export type AcmeOrderRow = Selectable<AcmeOrdersTable>;
export type AuthorizationRow = Selectable<AcmeAuthorizationsTable>;
export type ChallengeRow = Selectable<AcmeChallengesTable>;
export type EabKeyRow = Selectable<AcmeEabKeysTable>;
