import { formatDn, parseCsr, PkiError, type CertificateInfo, type ParsedCsr } from '@certbridge/pki';
import type { Sealer } from '../../crypto/sealer.ts';
import type { CertificateRow, OrderRow } from '../../db/schema.ts';
import { AppError } from '../../errors.ts';
import { serverKeyContext, type IssuanceService, type IssueOutcome } from '../../issuance/issuance-service.ts';
import type { CertificatesRepository } from '../../repositories/certificates-repository.ts';
import type { Endpoint } from '../settings/endpoints.ts';
import type { EnrollmentRepository } from '../settings/settings-repository.ts';

export type EstResult =
  | { status: 'issued'; certificateDer: Uint8Array; privateKeyPkcs8?: Uint8Array }
  | { status: 'pending'; retryAfterSeconds: number };

const DEFAULT_RETRY_SECONDS = 60;

function readCsr(der: Uint8Array): ParsedCsr {
  try {
    return parseCsr(der);
  } catch (err) {
    if (err instanceof PkiError) throw new AppError('MALFORMED_CSR', `the CSR cannot be read: ${err.message}`, undefined, { cause: err });
    throw err;
  }
}

const sanKey = (sans: { type: string; value: string }[]) => sans.map((s) => `${s.type}:${s.value.toLowerCase()}`).sort().join(',');

/**
 * EST enrollment on top of the one issuance path (protocol `est`). A PKCS#10 identical to one
 * already submitted to this profile is the client's retry after a 202 (RFC 7030 section 4.2.3):
 * it answers with that order's certificate, or 202 again while the CA has not decided.
 */
export function createEstEnrollment(deps: { issuance: IssuanceService; repo: EnrollmentRepository; certificates: CertificatesRepository; sealer: Sealer }) {
  const { issuance, repo } = deps;

  async function certificateOf(order: OrderRow): Promise<CertificateRow> {
    const cert = order.certificate_id ? await deps.certificates.find(order.certificate_id) : undefined;
    if (!cert) throw new AppError('INTERNAL', `order ${order.id} is issued but its certificate is missing`);
    return cert;
  }

  async function render(outcome: IssueOutcome): Promise<EstResult> {
    if (outcome.status === 'issued') {
      const key = outcome.certificate.private_key_sealed;
      return {
        status: 'issued', certificateDer: outcome.certificate.der,
        ...(key ? { privateKeyPkcs8: new Uint8Array(deps.sealer.open(key, serverKeyContext(outcome.order.id))) } : {}),
      };
    }
    if (outcome.status === 'pending') return { status: 'pending', retryAfterSeconds: outcome.retryAfterSeconds };
    const reason = outcome.order.error?.['message'];
    throw new AppError('CA_REJECTED', `the CA denied the request: ${typeof reason === 'string' ? reason : outcome.order.disposition ?? 'no reason given'}`, { orderId: outcome.order.id });
  }

  /** A retry of an earlier request, or undefined when this CSR is new. */
  async function retry(ep: Endpoint, csrDer: Uint8Array): Promise<EstResult | undefined> {
    const order = await repo.findOrderByCsr(ep.profile.id, csrDer);
    if (!order) return undefined;
    if (order.status === 'issued') return { status: 'issued', certificateDer: (await certificateOf(order)).der };
    const due = !order.next_poll_at || order.next_poll_at.getTime() <= Date.now();
    if (due && order.ca_request_id) return render(await issuance.poll(order.id, null));
    const wait = order.next_poll_at ? Math.ceil((order.next_poll_at.getTime() - Date.now()) / 1000) : DEFAULT_RETRY_SECONDS;
    return { status: 'pending', retryAfterSeconds: Math.max(1, wait) };
  }

  const context = (ep: Endpoint) => ({ actor: null, protocol: 'est' as const, application: ep.application, profile: ep.profile });

  return {
    /** simpleenroll (RFC 7030 section 4.2.1). */
    async enroll(ep: Endpoint, csrDer: Uint8Array): Promise<EstResult> {
      return (await retry(ep, csrDer)) ?? render(await issuance.issue(context(ep), { kind: 'csr', csr: csrDer }));
    },

    /** simplereenroll (section 4.2.2): same subject and subjectAltName as the current certificate. */
    async reenroll(ep: Endpoint, csrDer: Uint8Array, current: { info: CertificateInfo; certificateId: string | null }): Promise<EstResult> {
      const csr = readCsr(csrDer);
      if (formatDn(csr.subject) !== current.info.subjectText || sanKey(csr.sans) !== sanKey(current.info.sans)) {
        throw new AppError('BAD_REQUEST', `a re-enrollment must keep the subject (${current.info.subjectText}) and subjectAltName of the current certificate`);
      }
      return (await retry(ep, csrDer)) ?? render(await issuance.issue(context(ep), { kind: 'csr', csr: csrDer, ...(current.certificateId ? { renewedFromId: current.certificateId } : {}) }));
    },

    /** serverkeygen (section 4.4): the CSR names the subject; the key is generated with the profile's default algorithm. */
    async serverKeygen(ep: Endpoint, csrDer: Uint8Array): Promise<EstResult> {
      const csr = readCsr(csrDer);
      return render(await issuance.issue(context(ep), { kind: 'keygen', subject: csr.subject, sans: csr.sans }));
    },
  };
}

export type EstEnrollment = ReturnType<typeof createEstEnrollment>;
