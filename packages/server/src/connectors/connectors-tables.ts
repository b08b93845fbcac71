import type { ColumnType, Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.ts';

type Default<T> = ColumnType<T, T | undefined, T>;

/** `connectors` (migration 0005). */
export interface ConnectorsTable {
  id: string;
  name: string;
  site: Default<string>;
  status: Default<'pending' | 'active' | 'revoked'>;
  token_hash: string | null;
  token_expires_at: Date | null;
  serial_hex: string | null;
  cert_not_after: Date | null;
  version: string | null;
  last_heartbeat_at: Date | null;
  jobs_done: Default<number>;
  jobs_failed: Default<number>;
  /** Migration 0007: the serial before the last self-renewal, valid until the new one is used. */
  previous_serial_hex: Default<string | null>;
  created_at: Default<Date>;
  updated_at: Default<Date>;
}

/** `connector_jobs` (migrations 0005 and 0007): the queue every server instance reads for the sockets it holds. */
export interface ConnectorJobsTable {
  id: string;
  connector_id: string;
  kind: string;
  payload: ColumnType<Record<string, unknown>, string, string>;
  status: Default<'queued' | 'sent' | 'done' | 'failed'>;
  result: ColumnType<unknown, string | null | undefined, string | null>;
  error: string | null;
  instance: string | null;
  order_id: Default<string | null>;
  finished_at: Default<Date | null>;
  deliveries: Default<number>;
  created_at: Default<Date>;
  updated_at: Default<Date>;
}

/** `connector_pkcs12` (migration 0007): a connector-made PKCS#12, sealed, until downloaded or expired. */
export interface ConnectorPkcs12Table {
  order_id: string;
  sealed: string;
  password_hash: string;
  expires_at: Date;
  created_at: Default<Date>;
}

export type ConnectorRow = Selectable<ConnectorsTable>;
export type ConnectorJobRow = Selectable<ConnectorJobsTable>;
type ConnectorTables = { connectors: ConnectorsTable; connector_jobs: ConnectorJobsTable; connector_pkcs12: ConnectorPkcs12Table };
export type ConnectorDb = Kysely<Database & ConnectorTables>;

/** The shared database handle, typed with the connector tables. */
export const connectorDb = (db: Kysely<Database>): ConnectorDb => db.withTables<ConnectorTables>();
