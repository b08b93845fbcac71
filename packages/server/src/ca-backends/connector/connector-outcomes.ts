import { submitOutcome } from '@certbridge/connector/protocol';
import { jobTicket } from '../../connectors/connector-jobs.ts';
import { AppError } from '../../errors.ts';
import { denialReason } from '../adcs/adcs-errors.ts';
import { POLL_BASE_MS, pollDelayMs } from '../adcs/pending-schedule.ts';
import type { IssueResult } from '../types.ts';

export const derOf = (pem: string): Uint8Array => new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));

/** The disposition of an order whose job no connector has answered yet (SPEC order states: `pending`). */
export const waitingDisposition = (connectorName: string, detail?: string): string =>
  `waiting for connector ${connectorName}${detail ? ` (${detail})` : ''}`;

/**
 * An order left waiting for its connector: `pending`, the job as ticket (kept in
 * `orders.ca_request_id` until the connector's answer replaces it with the ADCS Request ID),
 * and a Retry-After of one background poll interval.
 */
export function waitingResult(connectorName: string, jobId: string, connectionId: string, detail?: string): IssueResult {
  return {
    status: 'pending', ticket: { requestId: jobTicket(jobId), server: connectionId },
    retryAfterSeconds: POLL_BASE_MS / 1000, disposition: waitingDisposition(connectorName, detail),
  };
}

/**
 * Maps an ADCS outcome the connector reported with the direct backend's rules (denial reasons,
 * pending ticket pinned to its server, poll schedule). A PKCS#12 in it is returned apart: it
 * never enters the issuance result.
 */
export function toIssueResult(raw: unknown, caName: string, connectionId: string, template?: string): { result: IssueResult; pkcs12?: string } {
  const parsed = submitOutcome.safeParse(raw);
  if (!parsed.success) throw new AppError('CA_UNAVAILABLE', `connector answered a malformed ADCS outcome for CA ${caName}`);
  const r = parsed.data;
  if (r.status === 'denied') {
    return {
      result: {
        status: 'rejected', reason: denialReason(r.dispositionMessage, r.hresult, template), disposition: r.dispositionMessage,
        ...(r.hresult ? { hresult: r.hresult } : {}), ...(r.requestId !== undefined ? { requestId: String(r.requestId) } : {}),
      },
    };
  }
  if (r.status === 'pending') {
    const disposition = r.warning ? `${r.dispositionMessage} (${r.warning})` : r.dispositionMessage;
    return { result: { status: 'pending', ticket: { requestId: String(r.requestId), server: connectionId }, retryAfterSeconds: pollDelayMs(0) / 1000, disposition } };
  }
  return {
    result: { status: 'issued', certificateDer: derOf(r.certificatePem), chainDer: [], requestId: String(r.requestId), server: connectionId, ...(r.warning ? { warning: r.warning } : {}) },
    ...(r.pkcs12 ? { pkcs12: r.pkcs12 } : {}),
  };
}
