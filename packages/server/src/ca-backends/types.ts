import type { DistinguishedName, KeyAlgorithm, KeyUsage, RevocationReason, San } from '@certbridge/pki';
import type { RawBuilder } from 'kysely';
import type { CaRow } from '../db/schema.ts';

/** What the issuance core asks a CA to sign, after the policy has approved it. */
export interface IssueRequest {
  orderId: string;
  csrDer: Uint8Array | null;
  spkiDer: Uint8Array;
  subject: DistinguishedName;
  sans: San[];
  notBefore: Date;
  notAfter: Date;
  keyUsages: KeyUsage[];
  extendedKeyUsages: string[];
  /** ADCS certificate template (external CAs only). */
  template?: string;
  /** The caller asked for this validity (ADCS then sends `ExpirationDate`). */
  validityRequested?: boolean;
  /** Answer `pending` without the backend's own short re-asks (the caller polls; see IssueContext). */
  answerPendingAtOnce?: boolean;
}

/**
 * Server-side key generation done by the CA side (an on-prem connector): no key and no CSR exist
 * on the server; the certificate comes back with a PKCS#12 encrypted under `pkcs12Password`.
 */
export interface KeygenIssueRequest extends Omit<IssueRequest, 'csrDer' | 'spkiDer'> {
  keyAlgorithm: KeyAlgorithm;
  pkcs12Password: string;
}

/**
 * Writes the order of a request (once). `alongside` is a data-modifying statement the backend
 * must run before asking the CA anyway (ADCS: taking a rate-cap token), run inside the order's
 * own statement: same round trip, same transaction, so it must not change the transaction's
 * settings (the order's statement sets its commit mode: orders-repository's recordBeforeRemoteCa).
 * Resolves once the order is committed, with the number of rows `alongside` returned.
 */
export type RecordOrder = (alongside?: RawBuilder<unknown>) => Promise<{ alongsideRows: number }>;

/** A template as an ADCS server offers it (certrqxt.asp). */
export interface OfferedTemplate { name: string; displayName: string; kind: 'E' | 'O' }

/** A serialisable handle on a request the CA has not decided yet (e.g. the ADCS Request ID). */
export interface PendingTicket {
  requestId: string;
  server?: string;
}

/**
 * The three outcomes every enrollment protocol must be able to show. A thrown error means the CA
 * could not be asked at all (network, authentication, TLS, bug), never a decision.
 */
export type IssueResult =
  | { status: 'issued'; certificateDer: Uint8Array; chainDer: Uint8Array[]; requestId?: string; server?: string; warning?: string; disposition?: string }
  | { status: 'pending'; ticket: PendingTicket; retryAfterSeconds: number; disposition?: string; warning?: string }
  | { status: 'rejected'; reason: string; disposition?: string; hresult?: string; requestId?: string; warning?: string };

export interface RevokeRequest {
  serialHex: string;
  reason: RevocationReason;
  certificateDer: Uint8Array;
}

/**
 * One interface for every CA backend (internal, adcs, connector), in the spirit of step-ca's
 * `cas/apiv1`: issue, renew, revoke, get the chain, poll a pending ticket.
 */
export interface CaBackend {
  /**
   * True when asking this CA has no effect outside this process (it signs here, keeps no record of
   * its own): the issuance core may then ask first and store the order with its outcome in one commit.
   */
  readonly local?: boolean;
  issue(request: IssueRequest): Promise<IssueResult>;
  /**
   * `issue` that writes the order itself, through `record`, before its first round trip: what
   * does not reach the CA (choosing a server, taking a rate-cap token) overlaps that write or
   * rides in it, and nothing is sent to the CA before `record` resolves; when it rejects, the CA
   * is never asked (crash safety: every request the CA knows of has a committed order).
   */
  issueWhileRecording?(request: IssueRequest, record: RecordOrder): Promise<IssueResult>;
  renew(request: IssueRequest): Promise<IssueResult>;
  /** Resolves to `{ deferred }` when the CA itself still has to be told later (ADCS). */
  revoke(request: RevokeRequest): Promise<void | { deferred: string }>;
  /** The CA's certificate first, then its issuers up to the root. */
  chain(): Promise<Uint8Array[]>;
  poll(ticket: PendingTicket): Promise<IssueResult>;
  /** Backends that generate keys themselves (connector); the issuance core then generates none. */
  issueWithKeygen?(request: KeygenIssueRequest): Promise<IssueResult>;
  /** Backends that discover templates themselves rather than through a direct ADCS client (connector). */
  templates?(server: string): Promise<OfferedTemplate[]>;
}

export type CaType = 'internal' | 'adcs' | 'connector';

export class NotSupportedError extends Error {
  constructor(operation: string, caType: string) {
    super(`${caType} CAs do not support ${operation}`);
    this.name = 'NotSupportedError';
  }
}

export type CaBackendFactory<Deps> = (ca: CaRow, deps: Deps) => CaBackend;
