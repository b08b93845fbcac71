import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Columns the database fills in (defaults); optional on insert. */
type Default<T> = ColumnType<T, T | undefined, T>;
/** jsonb: written as a JSON string (pg would turn JS arrays into SQL arrays), read as the value. */
type Json<T> = ColumnType<T, string, string>;
type Bytes = Uint8Array;

export interface UsersTable {
  id: string;
  username: string;
  password_hash: string;
  role: 'admin' | 'operator' | 'requester' | 'auditor';
  disabled: Default<boolean>;
  created_at: Default<Date>;
  updated_at: Default<Date>;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  prefix: string;
  expires_at: Date | null;
  revoked_at: Default<Date | null>;
  last_used_at: Default<Date | null>;
  created_at: Default<Date>;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  token_hash: string;
  csrf_token: string;
  expires_at: Date;
  created_at: Default<Date>;
}

export interface LoginFailuresTable {
  id: Generated<string>;
  throttle_key: string;
  failed_at: Default<Date>;
}

export interface CasTable {
  id: string;
  name: string;
  type: string;
  status: Default<'active' | 'disabled'>;
  parent_id: string | null;
  subject: string | null;
  serial_hex: string | null;
  key_algorithm: string | null;
  certificate_der: Bytes | null;
  /** Issuer chain above this CA, base64 DER, nearest first. */
  chain: ColumnType<string[], string | undefined, string>;
  private_key_sealed: string | null;
  not_before: Date | null;
  not_after: Date | null;
  settings: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Default<Date>;
  updated_at: Default<Date>;
}

export interface CrlsTable {
  ca_id: string;
  crl_number: ColumnType<string, string | bigint, string | bigint>;
  der: Bytes;
  this_update: Date;
  next_update: Date;
}

export interface PoliciesTable {
  id: string;
  name: string;
  description: Default<string>;
  rules: Json<unknown>;
  created_at: Default<Date>;
  updated_at: Default<Date>;
}

export interface ProfilesTable {
  id: string;
  slug: string;
  name: string;
  ca_id: string;
  policy_id: string;
  defaults: Json<unknown>;
  /** ADCS certificate template (profiles of ADCS CAs). */
  template: Default<string | null>;
  /** Set when the template is no longer offered by any server of the CA. */
  broken_reason: Default<string | null>;
  pending_lifetime_days: Default<number>;
  created_at: Default<Date>;
  updated_at: Default<Date>;
}

export interface ApplicationsTable {
  id: string;
  name: string;
  description: Default<string>;
  created_at: Default<Date>;
  updated_at: Default<Date>;
}

export interface ApplicationProfilesTable {
  application_id: string;
  profile_id: string;
}

export type ApplicationRole = 'owner' | 'requester' | 'viewer';

export interface ApplicationMembersTable {
  application_id: string;
  user_id: string;
  role: ApplicationRole;
}

export type OrderStatus = 'pending' | 'issued' | 'denied' | 'failed' | 'cancelled';

/** Circuit breaker and rate-cap token bucket of one ADCS server, shared by every instance. */
export interface AdcsServerStateTable {
  connection_id: string;
  failures: Default<number>;
  opened_at: Default<Date | null>;
  trial_at: Default<Date | null>;
  tokens: Default<number | null>;
  tokens_at: Default<Date | null>;
}

export interface OrdersTable {
  id: string;
  application_id: string;
  profile_id: string;
  ca_id: string;
  requester_id: string | null;
  protocol: string;
  status: OrderStatus;
  csr_der: Bytes | null;
  subject: string;
  sans: Json<{ type: string; value: string }[]>;
  key_algorithm: string | null;
  server_key_sealed: string | null;
  ca_request_id: string | null;
  ca_server: string | null;
  template: string | null;
  disposition: string | null;
  hresult: string | null;
  error: Json<Record<string, unknown>> | null;
  attempts: Default<number>;
  next_poll_at: Date | null;
  certificate_id: string | null;
  /** E.g. the CA ignored the requested validity. */
  warning: Default<string | null>;
  /** The subject CN, and the ADCS domain of the server that took the request (migration 0008). */
  common_name: Default<string | null>;
  adcs_domain: Default<string | null>;
  created_at: Default<Date>;
  updated_at: Default<Date>;
}

export interface CertificatesTable {
  id: string;
  ca_id: string;
  order_id: string | null;
  application_id: string | null;
  profile_id: string | null;
  requester_id: string | null;
  serial_hex: string;
  subject: string;
  sans: Json<{ type: string; value: string }[]>;
  search_text: string;
  key_algorithm: string | null;
  fingerprint_sha256: string;
  not_before: Date;
  not_after: Date;
  status: Default<'active' | 'revoked'>;
  revoked_at: Date | null;
  revocation_reason: string | null;
  der: Bytes;
  chain: ColumnType<string[], string | undefined, string>;
  private_key_sealed: string | null;
  renewed_from_id: string | null;
  /** Revoked in Certbridge, still to be revoked at the issuing ADCS. */
  ca_revocation_pending: Default<boolean>;
  created_at: Default<Date>;
}

export interface AuditLogTable {
  seq: Generated<string>;
  id: string;
  occurred_at: Date;
  actor_type: string;
  actor_id: string | null;
  actor_name: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  outcome: 'success' | 'failure';
  details: Json<Record<string, unknown>>;
  xid: Generated<string>;
  chain_pos: string | null;
  prev_hash: string | null;
  hash: string | null;
}

/** Server-wide values (e.g. the server's TLS certificate); `sealed` holds the secret part. */
export interface SettingsTable {
  key: string;
  value: Json<Record<string, unknown>>;
  sealed: string | null;
}

export interface ConnectionsTable {
  id: string;
  name: string;
  type: 'adcs';
  url: string;
  domain: string;
  username: string;
  /** Null for a Kerberos connection that logs in with its keytab only (migration 0016). */
  password_sealed: string | null;
  auth: 'ntlm' | 'kerberos' | 'negotiate' | 'basic';
  ca_pem: string | null;
  reject_unauthorized: Default<boolean>;
  timeout_ms: Default<number>;
  max_sockets: Default<number>;
  /** Kerberos keytab (sealed), the principal it holds, and the realm's KDCs (migration 0016). */
  keytab_sealed: Default<string | null>;
  keytab_principal: Default<string | null>;
  kerberos_kdcs: ColumnType<string[] | null, string | null | undefined, string | null>;
  created_at: Default<Date>;
  updated_at: Default<Date>;
}

export interface CaServersTable {
  ca_id: string;
  connection_id: string;
  priority: number;
  max_requests_per_second: Default<number>;
  last_check_at: Default<Date | null>;
  last_check_ok: Default<boolean | null>;
  last_error: Default<string | null>;
}

export interface AdcsTemplatesTable {
  connection_id: string;
  name: string;
  display_name: string;
  kind: string;
  refreshed_at: Date;
}

export interface Database {
  settings: SettingsTable;
  users: UsersTable;
  api_tokens: ApiTokensTable;
  sessions: SessionsTable;
  login_failures: LoginFailuresTable;
  cas: CasTable;
  crls: CrlsTable;
  policies: PoliciesTable;
  profiles: ProfilesTable;
  applications: ApplicationsTable;
  application_profiles: ApplicationProfilesTable;
  application_members: ApplicationMembersTable;
  orders: OrdersTable;
  certificates: CertificatesTable;
  audit_log: AuditLogTable;
  connections: ConnectionsTable;
  ca_servers: CaServersTable;
  adcs_templates: AdcsTemplatesTable;
  adcs_server_state: AdcsServerStateTable;
}

export type UserRow = Selectable<UsersTable>;
export type CaRow = Selectable<CasTable>;
export type PolicyRow = Selectable<PoliciesTable>;
export type ProfileRow = Selectable<ProfilesTable>;
export type ApplicationRow = Selectable<ApplicationsTable>;
export type OrderRow = Selectable<OrdersTable>;
export type CertificateRow = Selectable<CertificatesTable>;
export type AuditRow = Selectable<AuditLogTable>;
export type ConnectionRow = Selectable<ConnectionsTable>;
export type CaServerRow = Selectable<CaServersTable>;
export type NewCertificate = Insertable<CertificatesTable>;
export type NewOrder = Insertable<OrdersTable>;
