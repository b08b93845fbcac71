/**
 * The CA database as the emulator keeps it: one row per submitted request (issued, pending,
 * denied, failed or revoked), and the next Request ID. Mirrors the columns an ADCS admin sees in
 * certsrv.msc ("Request ID", "Request Disposition Message", "Requester Name", …).
 */

/** Web enrollment CR_DISP_* values ([MS-WCCE] 3.2.1.4.3.1 / certcli.h). */
export const CR_DISP = {
  incomplete: 0,
  error: 1,
  denied: 2,
  issued: 3,
  issuedOutOfBand: 4,
  underSubmission: 5,
  revoked: 6,
} as const;

export type Disposition = 'issued' | 'pending' | 'denied' | 'failed' | 'revoked';

export interface RequestRecord {
  id: number;
  /** DOMAIN\user of the authenticated caller. */
  requester: string;
  submittedAt: string;
  resolvedAt?: string;
  /** Template CN as resolved by the policy module (empty when none was named). */
  template: string;
  /** The request blob as received (base64 of DER); empty when it could not be decoded. */
  request: string;
  /** Request attributes (CertAttrib), name → value. */
  attributes: Record<string, string>;
  disposition: Disposition;
  dispositionMessage: string;
  /** HRESULT of the last status (0 for success). */
  status: number;
  /** Issued certificate, base64 DER. */
  certificate?: string;
  serialNumber?: string;
  revokedAt?: string;
  revocationReason?: number;
}

/** Maps a disposition to the CR_DISP number certsrv pages print. */
export function crDisp(d: Disposition): number {
  const map: Record<Disposition, number> = {
    issued: CR_DISP.issued,
    pending: CR_DISP.underSubmission,
    denied: CR_DISP.denied,
    failed: CR_DISP.error,
    revoked: CR_DISP.revoked,
  };
  return map[d];
}

export interface RequestSnapshot {
  nextRequestId: number;
  crlNumber: number;
  requests: RequestRecord[];
}

/** In-memory request table with a change hook the state file uses to persist. */
export class RequestTable {
  private nextId: number;
  private crlNumber: number;
  private readonly rows = new Map<number, RequestRecord>();

  constructor(snapshot: RequestSnapshot | undefined, private readonly onChange: () => void) {
    this.nextId = snapshot?.nextRequestId ?? 2;
    this.crlNumber = snapshot?.crlNumber ?? 1;
    for (const r of snapshot?.requests ?? []) this.rows.set(r.id, r);
  }

  /** Allocates the next Request ID (ADCS numbers from 1 upward; the CA's own renewal took 1). */
  allocateId(): number {
    return this.nextId++;
  }

  put(record: RequestRecord): RequestRecord {
    this.rows.set(record.id, record);
    this.onChange();
    return record;
  }

  get(id: number): RequestRecord | undefined {
    return this.rows.get(id);
  }

  list(): RequestRecord[] {
    return [...this.rows.values()].sort((a, b) => a.id - b.id);
  }

  nextCrlNumber(): number {
    const n = this.crlNumber++;
    this.onChange();
    return n;
  }

  snapshot(): RequestSnapshot {
    return { nextRequestId: this.nextId, crlNumber: this.crlNumber, requests: this.list() };
  }
}
