import { createHash } from 'node:crypto';
import { parseCsr, PkiError, type ParsedCsr } from '@certbridge/pki';
import type { Clock } from '../../clock.ts';
import type { OrderRow } from '../../db/schema.ts';
import { AppError } from '../../errors.ts';
import type { IssuanceService, IssueOutcome } from '../../issuance/issuance-service.ts';
import type { CertificatesRepository } from '../../repositories/certificates-repository.ts';
import type { OrdersRepository } from '../../repositories/orders-repository.ts';
import type { CrlService } from '../../revocation/crl-service.ts';
import { CLIENT_POLL_MIN_SECONDS } from '../est/est-enrollment.ts';
import type { EnrollmentEndpoints, Endpoint } from '../settings/endpoints.ts';
import type { EnrollmentRepository } from '../settings/settings-repository.ts';
import { readIssuerAndSerial } from './scep-message.ts';
import { MESSAGE_TYPE } from './scep-oids.ts';

/** What a pkiMessage asks, once its CMS layers are removed. */
export interface ScepRequest {
  messageType: number;
  transactionId: string;
  signerCertificateDer: Uint8Array;
  /** PKCS#10 (PKCSReq, RenewalReq), IssuerAndSubject (CertPoll), IssuerAndSerialNumber (GetCert, GetCRL). */
  content: Uint8Array;
}

export type ScepReply = { status: 'SUCCESS'; certs: Uint8Array[]; crls: Uint8Array[] } | { status: 'PENDING' };

const requestHash = (req: ScepRequest): string => createHash('sha256').update(req.content).digest('hex');

function readCsr(der: Uint8Array): ParsedCsr {
  try {
    return parseCsr(der);
  } catch (err) {
    if (err instanceof PkiError) throw new AppError('MALFORMED_CSR', `the PKCS#10 cannot be read: ${err.message}`, undefined, { cause: err });
    throw err;
  }
}

/**
 * SCEP operations (RFC 8894 section 3.3) on the one issuance path (protocol `scep`). A
 * transactionID is bound to its first PKCS#10: the same request again is a poll, another
 * request under a used transactionID is refused (replay).
 */
export function createScepService(deps: {
  issuance: IssuanceService; repo: EnrollmentRepository; endpoints: EnrollmentEndpoints; certificates: CertificatesRepository; orders: OrdersRepository; crl: CrlService; clock: Clock;
}) {
  const { issuance, repo, endpoints, clock } = deps;

  async function replyFor(outcome: IssueOutcome): Promise<ScepReply> {
    if (outcome.status === 'issued') return { status: 'SUCCESS', certs: [outcome.certificate.der], crls: [] };
    if (outcome.status === 'pending') return { status: 'PENDING' };
    throw new AppError('CA_REJECTED', `the CA denied the request: ${outcome.order.disposition ?? 'no reason given'}`);
  }

  async function orderState(order: OrderRow): Promise<ScepReply> {
    if (order.status === 'issued' && order.certificate_id) {
      const cert = await deps.certificates.find(order.certificate_id);
      if (cert) return { status: 'SUCCESS', certs: [cert.der], crls: [] };
    }
    if (order.status === 'pending') {
      // As for EST: a client's poll asks the CA when the order's poll is due or nobody asked it lately.
      const now = clock.now().getTime();
      const due = order.ca_request_id && (!order.next_poll_at || order.next_poll_at.getTime() <= now || order.updated_at.getTime() <= now - CLIENT_POLL_MIN_SECONDS * 1000);
      return due ? replyFor(await issuance.poll(order.id, null)) : { status: 'PENDING' };
    }
    throw new AppError('CA_REJECTED', `the request is ${order.status}: ${order.disposition ?? 'no reason given'}`);
  }

  /**
   * A known transactionID with the same PKCS#10 is answered with its order's state (a resent or
   * replayed message issues nothing new). Clients derive the transactionID from the public key
   * (RFC 8894 section 3.2.1.1), so a new PKCS#10 under it is a new request once the earlier one
   * is decided, and refused while it is still pending.
   */
  async function existing(ep: Endpoint, req: ScepRequest): Promise<ScepReply | undefined> {
    const tx = await repo.findTransaction(ep.settings.id, req.transactionId);
    if (!tx) return undefined;
    const order = await deps.orders.find(tx.order_id);
    if (tx.request_sha256 === requestHash(req)) {
      if (!order) throw new AppError('NOT_FOUND', `the order of transaction ${req.transactionId} is gone`);
      // Signed with the certificate this very request produced: a renewal with the same key, not a resend.
      const issued = order.certificate_id ? await deps.certificates.find(order.certificate_id) : undefined;
      if (!issued || !Buffer.from(issued.der).equals(Buffer.from(req.signerCertificateDer))) return orderState(order);
      return undefined;
    }
    if (order?.status === 'pending') throw new AppError('CONFLICT', `transactionID ${req.transactionId} is in use by a pending request`);
    return undefined;
  }

  async function enroll(ep: Endpoint, req: ScepRequest, renewedFromId?: string): Promise<ScepReply> {
    const outcome = await issuance.issue({ actor: null, protocol: 'scep', application: ep.application, profile: ep.profile }, { kind: 'csr', csr: req.content, ...(renewedFromId ? { renewedFromId } : {}) });
    await repo.saveTransaction({ settings_id: ep.settings.id, transaction_id: req.transactionId, request_sha256: requestHash(req), order_id: outcome.order.id });
    return replyFor(outcome);
  }

  const operations: Record<number, (ep: Endpoint, req: ScepRequest) => Promise<ScepReply>> = {
    [MESSAGE_TYPE.PKCSReq]: async (ep, req) => {
      const again = await existing(ep, req);
      if (again) return again;
      const csr = readCsr(req.content);
      if (!(await endpoints.checkChallenge(ep, csr.challengePassword))) throw new AppError('UNAUTHENTICATED', 'the challenge password is missing, wrong, expired or already used');
      return enroll(ep, req);
    },
    [MESSAGE_TYPE.RenewalReq]: async (ep, req) => {
      const again = await existing(ep, req);
      if (again) return again;
      const current = await endpoints.checkClientCertificate(ep, req.signerCertificateDer);
      if (!current.ok) throw new AppError('FORBIDDEN', `RenewalReq refused: ${current.reason}`);
      return enroll(ep, req, current.certificateId ?? undefined);
    },
    [MESSAGE_TYPE.CertPoll]: async (ep, req) => {
      const tx = await repo.findTransaction(ep.settings.id, req.transactionId);
      const order = tx ? await deps.orders.find(tx.order_id) : undefined;
      if (!order) throw new AppError('NOT_FOUND', `no request with transactionID ${req.transactionId}`);
      return orderState(order);
    },
    [MESSAGE_TYPE.GetCert]: async (ep, req) => {
      const serial = readIssuerAndSerial(req.content);
      const found = await deps.certificates.findBySerial(ep.profile.ca_id, serial);
      const cert = found ? await deps.certificates.find(found.id) : undefined;
      if (!cert) throw new AppError('NOT_FOUND', `no certificate with serial ${serial}`);
      return { status: 'SUCCESS', certs: [cert.der], crls: [] };
    },
    [MESSAGE_TYPE.GetCRL]: async (ep, req) => {
      readIssuerAndSerial(req.content);
      return { status: 'SUCCESS', certs: [], crls: [await deps.crl.current(ep.profile.ca_id)] };
    },
  };

  return {
    /** One pkiMessage; AppErrors become signed FAILURE answers (scep-errors.ts). */
    async handle(ep: Endpoint, req: ScepRequest): Promise<ScepReply> {
      const operation = operations[req.messageType];
      if (!operation) throw new AppError('BAD_REQUEST', `messageType ${req.messageType} is not a request this server answers`);
      return operation(ep, req);
    },
  };
}

export type ScepService = ReturnType<typeof createScepService>;
