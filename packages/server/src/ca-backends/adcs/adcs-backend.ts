import { parseCertificate, pemEncode } from '@certbridge/pki';
import type { AdcsClient, SubmitInput, SubmitResult } from '@certbridge/adcs-client';
import type { CaRow, ConnectionRow } from '../../db/schema.ts';
import { AppError } from '../../errors.ts';
import type { CaBackend, CaBackendFactory, IssueRequest, IssueResult, PendingTicket, RecordOrder } from '../types.ts';
import { denialReason, withLostAnswers } from './adcs-errors.ts';
import type { AdcsRuntime } from './adcs-runtime.ts';
import { parseAdcsSettings } from './adcs-settings.ts';
import { pollDelayMs } from './pending-schedule.ts';

export interface AdcsBackendDeps {
  adcs: AdcsRuntime;
}

const DAY_MS = 86_400_000;

/** Said on revocation: web enrollment cannot revoke, so Certbridge records it and ADCS is told later. */
export const ADCS_REVOCATION_DEFERRED =
  'revoked in Certbridge; the certificate is still valid at ADCS until it is revoked there (marked "to revoke at ADCS": the on-prem connector or a CA manager does it)';

function derOf(pem: string): Uint8Array {
  return new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
}

/**
 * The `adcs` CA backend: submits through certsrv web enrollment with the profile's template
 * (`CertificateTemplate`, plus `SAN` and `ExpirationDate` when asked), fails over across the
 * CA's servers (adcs-runtime.ts), re-asks a pended request a few times with backoff, and polls
 * pending tickets on the server that holds them.
 */
export const createAdcsBackend: CaBackendFactory<AdcsBackendDeps> = (ca: CaRow, deps): CaBackend => {
  const rt = deps.adcs;
  const settings = parseAdcsSettings(ca.settings);

  async function toResult(r: SubmitResult, connection: ConnectionRow, req: IssueRequest | null): Promise<IssueResult> {
    if (r.status === 'denied') {
      return {
        status: 'rejected', reason: denialReason(r.dispositionMessage, r.hresult, req?.template), disposition: r.dispositionMessage,
        ...(r.hresult ? { hresult: r.hresult } : {}), ...(r.requestId !== undefined ? { requestId: String(r.requestId) } : {}),
      };
    }
    if (r.status === 'pending') {
      return { status: 'pending', ticket: { requestId: String(r.requestId), server: connection.id }, retryAfterSeconds: pollDelayMs(0) / 1000, disposition: r.dispositionMessage };
    }
    const certificateDer = derOf(r.certificatePem);
    // The chain of the server that issued it (servers of one CA may be different issuing CAs);
    // the CA row's chain when that server cannot give it right now.
    const chainDer = await rt.pool.chain(connection).catch(() => rowChain());
    let warning: string | undefined;
    if (req?.validityRequested) {
      const notAfter = parseCertificate(certificateDer).notAfter;
      if (Math.abs(notAfter.getTime() - req.notAfter.getTime()) > DAY_MS) {
        warning = `the CA ignored the requested validity (ExpirationDate ${req.notAfter.toISOString()}); the certificate expires ${notAfter.toISOString()}. Turn on EDITF_ATTRIBUTEENDDATE on the CA to honour it.`;
      }
    }
    return { status: 'issued', certificateDer, chainDer, requestId: String(r.requestId), server: connection.id, ...(warning ? { warning } : {}) };
  }

  const rowChain = (): Uint8Array[] => (ca.certificate_der ? [ca.certificate_der, ...ca.chain.map((x) => new Uint8Array(Buffer.from(x, 'base64')))] : []);
  const ask = (op: (c: AdcsClient) => Promise<SubmitResult>, only?: string, record?: RecordOrder) => rt.withFailover(ca, (client) => op(client), only, record);

  async function issue(req: IssueRequest, record?: RecordOrder): Promise<IssueResult> {
    if (!req.template) throw new AppError('VALIDATION_FAILED', `the profile names no ADCS certificate template (CA ${ca.name} is an ADCS CA)`);
    if (!req.csrDer) throw new AppError('VALIDATION_FAILED', 'an ADCS request needs a PKCS#10 request');
    const input: SubmitInput = {
      csrPem: pemEncode('CERTIFICATE REQUEST', req.csrDer),
      template: req.template,
      ...(settings.sanAttribute && req.sans.length ? { sans: req.sans.map((s) => ({ type: s.type, value: s.value })) } : {}),
      ...(req.validityRequested ? { validity: { notAfter: req.notAfter } } : {}),
    };
    const first = await ask((c) => c.submit(input), undefined, record);
    let result = await toResult(first.value, first.connection, req);
    const delays = req.answerPendingAtOnce ? [] : rt.quickRetryDelaysMs.slice(0, settings.quickRetries);
    for (const delay of delays) {
      if (result.status !== 'pending') break;
      await rt.sleep(delay);
      const requestId = Number(result.ticket.requestId);
      try {
        const again = await ask((c) => c.retrieve(requestId), first.connection.id);
        result = await toResult(again.value, again.connection, req);
      } catch {
        // The request is safely recorded at the CA; the background poller takes it from here.
        break;
      }
    }
    // A server tried before may hold this request too: the order says where to look.
    return withLostAnswers(result, first.lostAnswers);
  }

  async function poll(ticket: PendingTicket): Promise<IssueResult> {
    const requestId = Number(ticket.requestId);
    const r = await ask((c) => c.retrieve(requestId), ticket.server);
    return toResult(r.value, r.connection, null);
  }

  return {
    issue: (req) => issue(req),
    issueWhileRecording: issue,
    renew: (req) => issue(req),
    revoke: async () => ({ deferred: ADCS_REVOCATION_DEFERRED }),
    async chain() {
      if (ca.certificate_der) return rowChain();
      return (await rt.withFailover(ca, (_c, connection) => rt.pool.chain(connection))).value;
    },
    poll,
  };
};
