import { formatDn, parseCsr, PkiError, type CertificateInfo, type ParsedCsr } from '@certbridge/pki';
import type { Clock } from '../../clock.ts';
import type { Sealer } from '../../crypto/sealer.ts';
import type { OrderRow } from '../../db/schema.ts';
import { AppError } from '../../errors.ts';
import { serverKeyContext, type IssuanceService, type IssueOutcome } from '../../issuance/issuance-service.ts';
import type { CertificatesRepository } from '../../repositories/certificates-repository.ts';
import type { Endpoint } from '../settings/endpoints.ts';
import type { EstOperation, EstRequestRow, EstRequests } from './est-requests.ts';

export type EstResult =
  | { status: 'issued'; certificateDer: Uint8Array; privateKeyPkcs8?: Uint8Array }
  | { status: 'pending'; retryAfterSeconds: number };

/**
 * A client's retry asks the CA itself when the order's own poll is due, or when nobody asked the
 * CA about it for this long: a device coming back after an approval gets its certificate at
 * once, while a client hammering the endpoint costs ADCS at most one request per interval.
 */
export const CLIENT_POLL_MIN_SECONDS = 5;

function readCsr(der: Uint8Array): ParsedCsr {
  try {
    return parseCsr(der);
  } catch (err) {
    if (err instanceof PkiError) throw new AppError('MALFORMED_CSR', `the CSR cannot be read: ${err.message}`, undefined, { cause: err });
    throw err;
  }
}

const sanKey = (sans: { type: string; value: string }[]) => sans.map((s) => `${s.type}:${s.value.toLowerCase()}`).sort().join(',');
const denial = (order: OrderRow) => {
  const reason = order.error?.['message'];
  return new AppError('CA_REJECTED', `the CA denied the request: ${typeof reason === 'string' ? reason : order.disposition ?? 'no reason given'}`, { orderId: order.id });
};

/**
 * EST enrollment on top of the one issuance path (protocol `est`). Every request is recorded
 * with its PKCS#10 and client identity; the same PKCS#10 from the same client is the retry of
 * RFC 7030 section 4.2.3 and gets that order's certificate, 202 again while the CA has not
 * decided, or the denial. A server-generated key (serverkeygen) stays sealed on the order until
 * the certificate exists and is handed out in exactly one answer.
 */
export function createEstEnrollment(deps: { issuance: IssuanceService; requests: EstRequests; certificates: CertificatesRepository; sealer: Sealer; clock: Clock }) {
  const { issuance, requests, clock } = deps;

  /** Where an order stands now, asking the CA when a client's retry may (see CLIENT_POLL_MIN_SECONDS). */
  async function advance(order: OrderRow): Promise<IssueOutcome> {
    if (order.status === 'denied') return { status: 'denied', order };
    if (order.status === 'issued') {
      const certificate = order.certificate_id ? await deps.certificates.find(order.certificate_id) : undefined;
      if (!certificate) throw new AppError('INTERNAL', `order ${order.id} is issued but its certificate is missing`);
      return { status: 'issued', order, certificate };
    }
    const now = clock.now().getTime();
    const due = !order.next_poll_at || order.next_poll_at.getTime() <= now || order.updated_at.getTime() <= now - CLIENT_POLL_MIN_SECONDS * 1000;
    if (due && order.ca_request_id) return issuance.poll(order.id, null);
    const wait = order.next_poll_at ? Math.ceil((order.next_poll_at.getTime() - now) / 1000) : CLIENT_POLL_MIN_SECONDS;
    return { status: 'pending', order, retryAfterSeconds: Math.max(1, wait) };
  }

  /** The answer for an outcome; `request` is the recorded request whose key this answer hands out (serverkeygen). */
  async function render(outcome: IssueOutcome, keyOf?: EstRequestRow): Promise<EstResult> {
    if (outcome.status === 'pending') return { status: 'pending', retryAfterSeconds: outcome.retryAfterSeconds };
    if (outcome.status === 'denied') throw denial(outcome.order);
    const sealed = outcome.certificate.private_key_sealed;
    if (!keyOf) return { status: 'issued', certificateDer: outcome.certificate.der };
    if (!sealed) throw new AppError('INTERNAL', `order ${outcome.order.id} generated no key`);
    if (!(await requests.markKeyDelivered(keyOf.id, clock.now()))) throw new AppError('CONFLICT', 'the server-generated key of this request was already delivered');
    return { status: 'issued', certificateDer: outcome.certificate.der, privateKeyPkcs8: new Uint8Array(deps.sealer.open(sealed, serverKeyContext(outcome.order.id))) };
  }

  /** A retry when this client sent this PKCS#10 before, else a new submission recorded for later retries. */
  async function enrollOnce(ep: Endpoint, operation: EstOperation, csrDer: Uint8Array, identity: string, submit: () => Promise<IssueOutcome>): Promise<EstResult> {
    const open = await requests.findOpen(ep.settings.id, operation, csrDer, identity);
    if (open) return render(await advance(open.order), operation === 'serverkeygen' ? open.request : undefined);
    const outcome = await submit();
    // Recorded before answering, so the 202 can be followed; a key issued right away goes out in this answer.
    const deliveredNow = operation === 'serverkeygen' && outcome.status === 'issued';
    await requests.record({ settings_id: ep.settings.id, operation, csr_der: csrDer, client_identity: identity, order_id: outcome.order.id, ...(deliveredNow ? { key_delivered_at: clock.now() } : {}) });
    if (outcome.status !== 'issued' || operation !== 'serverkeygen') return render(outcome);
    const sealed = outcome.certificate.private_key_sealed;
    if (!sealed) throw new AppError('INTERNAL', `order ${outcome.order.id} generated no key`);
    return { status: 'issued', certificateDer: outcome.certificate.der, privateKeyPkcs8: new Uint8Array(deps.sealer.open(sealed, serverKeyContext(outcome.order.id))) };
  }

  const context = (ep: Endpoint) => ({ actor: null, protocol: 'est' as const, application: ep.application, profile: ep.profile });

  return {
    /** simpleenroll (RFC 7030 section 4.2.1). */
    enroll: (ep: Endpoint, csrDer: Uint8Array, identity: string): Promise<EstResult> =>
      enrollOnce(ep, 'simpleenroll', csrDer, identity, () => issuance.issue(context(ep), { kind: 'csr', csr: csrDer })),

    /** simplereenroll (section 4.2.2): same subject and subjectAltName as the current certificate. */
    async reenroll(ep: Endpoint, csrDer: Uint8Array, identity: string, current: { info: CertificateInfo; certificateId: string | null }): Promise<EstResult> {
      const csr = readCsr(csrDer);
      if (formatDn(csr.subject) !== current.info.subjectText || sanKey(csr.sans) !== sanKey(current.info.sans)) {
        throw new AppError('BAD_REQUEST', `a re-enrollment must keep the subject (${current.info.subjectText}) and subjectAltName of the current certificate`);
      }
      return enrollOnce(ep, 'simplereenroll', csrDer, identity, () => issuance.issue(context(ep), { kind: 'csr', csr: csrDer, ...(current.certificateId ? { renewedFromId: current.certificateId } : {}) }));
    },

    /** serverkeygen (section 4.4): the CSR names the subject; the key is generated with the profile's default algorithm. */
    async serverKeygen(ep: Endpoint, csrDer: Uint8Array, identity: string): Promise<EstResult> {
      const csr = readCsr(csrDer);
      return enrollOnce(ep, 'serverkeygen', csrDer, identity, () => issuance.issue(context(ep), { kind: 'keygen', subject: csr.subject, sans: csr.sans }));
    },
  };
}

export type EstEnrollment = ReturnType<typeof createEstEnrollment>;
