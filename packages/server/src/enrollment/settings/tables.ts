import type { ColumnType, Selectable } from 'kysely';

type Default<T> = ColumnType<T, T | undefined, T>;

export type EstAuth = 'basic' | 'certificate' | 'both';
export type ScepChallengeMode = 'static' | 'dynamic';

/** One EST/SCEP enrollment setting per profile, owned by one application (migration 0003). */
export type EnrollmentSettingsTable = {
  id: string;
  application_id: string;
  profile_id: string;
  est_enabled: Default<boolean>;
  est_auth: Default<EstAuth>;
  est_username: Default<string | null>;
  est_secret_sealed: Default<string | null>;
  /** Served at `/.well-known/est/…` without a label (at most one row). */
  est_default: Default<boolean>;
  scep_enabled: Default<boolean>;
  scep_challenge: Default<ScepChallengeMode>;
  scep_static_sealed: Default<string | null>;
  scep_challenge_ttl_seconds: Default<number>;
  ra_certificate_der: Default<Uint8Array | null>;
  ra_key_sealed: Default<string | null>;
  created_at: Default<Date>;
  updated_at: Default<Date>;
};

export type ScepChallengesTable = {
  id: string;
  settings_id: string;
  /** SHA-256 hex of the challenge: the value itself is shown once and never stored. */
  challenge_hash: string;
  expires_at: Date;
  used_at: Default<Date | null>;
  created_by: string | null;
  created_at: Default<Date>;
};

export type ScepTransactionsTable = {
  settings_id: string;
  transaction_id: string;
  /** SHA-256 hex of the PKCS#10 of the first request with this transaction id. */
  request_sha256: string;
  order_id: string;
  created_at: Default<Date>;
};

/** The tables of migration 0003, added to the shared schema with `db.withTables`. */
export type EnrollmentTables = {
  enrollment_settings: EnrollmentSettingsTable;
  scep_challenges: ScepChallengesTable;
  scep_transactions: ScepTransactionsTable;
};

export type EnrollmentSettingsRow = Selectable<EnrollmentSettingsTable>;

/** Context strings binding each sealed value to its row (crypto/sealer.ts). */
export const sealContext = {
  estSecret: (id: string) => `est-secret:${id}`,
  scepChallenge: (id: string) => `scep-challenge:${id}`,
  raKey: (id: string) => `scep-ra-key:${id}`,
};
