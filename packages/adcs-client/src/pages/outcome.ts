/**
 * Classifies certsrv outcome pages: the certfnsh.asp answer to `Mode=newreq` / `Mode=chkpnd`
 * and the HTML page certnew.cer returns instead of a certificate.
 *
 * Markers, strongest first ([MS-WCCE] dispositions as certsrv renders them):
 * - issued: a `certnew.cer?ReqID=N&` link (both the `&amp;Enc=` href and the script form);
 * - pending: the `locInfoNewReq` / `locInfoChkPnd` paragraphs or the "Certificate Pending" title,
 *   with `Your Request Id is N.`;
 * - denied: the `locDenied` / `locIssRev` paragraphs, `The disposition message is "…"`, or a
 *   `<DL>` block whose Disposition is 2 (CR_DISP_DENIED) or whose message / LastStatus carries a
 *   failure HRESULT;
 * - anything else is an `ADCS_UNEXPECTED_PAGE` error with an excerpt.
 */
import { AdcsError } from '../errors.ts';
import { parseDlFields, type DlFields } from './dl-fields.ts';
import { excerptOf } from './html.ts';
import { findHresult, isFailure } from './hresult.ts';

export type PageOutcome =
  | { status: 'issued'; requestId: number }
  | { status: 'pending'; requestId?: number; dispositionMessage: string }
  | { status: 'denied'; requestId?: number; dispositionMessage: string; hresult?: string };

/** CR_DISP_* values ([MS-WCCE] 3.2.1.4.2.1.4, certcli.h). */
export const CR_DISP = { INCOMPLETE: 0, ERROR: 1, DENIED: 2, ISSUED: 3, ISSUED_OUT_OF_BAND: 4, UNDER_SUBMISSION: 5, REVOKED: 6 } as const;

/**
 * What the Windows default policy module writes for a pended request. Used when a pending page
 * does not print the message (certsrv's pending page shows only the request id).
 */
export const TAKEN_UNDER_SUBMISSION = 'Taken Under Submission';

const ISSUED_LINK_RE = /certnew\.cer\?ReqID=(\d+)&/i;
const REQUEST_ID_RE = /Your Request Id is (\d+)/i;
const DISPOSITION_MESSAGE_RE = /The disposition message is "([^"]*)"/i;
const PENDING_MARKER_RE = /\bID=["']?(?:locInfoNewReq|locInfoChkPnd)\b|Certificate Pending/i;
const DENIED_MARKER_RE = /\bID=["']?(?:locDenied|locIssRev)\b|Certificate Request Denied|request was denied/i;

/** Classifies a certfnsh.asp (submit / check pending) answer page. */
export function parseSubmitPage(html: string, httpStatus = 200): PageOutcome {
  const issued = ISSUED_LINK_RE.exec(html);
  if (issued) return { status: 'issued', requestId: Number(issued[1]) };

  const requestId = numberOf(REQUEST_ID_RE.exec(html));
  const quoted = DISPOSITION_MESSAGE_RE.exec(html)?.[1]?.trim();
  if (DENIED_MARKER_RE.test(html)) {
    const dispositionMessage = quoted ?? 'Denied';
    return denied(requestId, dispositionMessage, findHresult(dispositionMessage)?.hresult ?? findHresult(html)?.hresult);
  }
  if (PENDING_MARKER_RE.test(html) && requestId !== undefined) {
    return { status: 'pending', requestId, dispositionMessage: quoted ?? TAKEN_UNDER_SUBMISSION };
  }
  const fields = parseDlFields(html);
  const fromDl = outcomeFromDl(fields, requestId);
  if (fromDl) return fromDl;
  throw unexpected('certfnsh.asp answered a page that is neither issued, pending, denied nor an error page', html, httpStatus, fields);
}

/** Classifies the HTML page certnew.cer / certnew.p7b return when no certificate is available. */
export function parseRetrievePage(html: string, requestId: number, httpStatus = 200): PageOutcome {
  const fields = parseDlFields(html);
  const outcome = outcomeFromDl(fields, requestId);
  if (outcome) return outcome;
  throw unexpected(`certnew.cer?ReqID=${requestId} answered neither a certificate nor a disposition page`, html, httpStatus, fields);
}

/**
 * The `<DL>` fields decide: an explicit denial/revocation disposition, then a failure HRESULT
 * in the disposition message or LastStatus (certsrv prints `0x0` for a healthy pending request),
 * then "under submission".
 */
function outcomeFromDl(fields: DlFields, requestId: number | undefined): PageOutcome | undefined {
  const message = fields.dispositionMessage;
  const failure = [message, fields.lastStatus, fields.result]
    .map((text) => (text === undefined ? undefined : findHresult(text)))
    .find((h) => h !== undefined && isFailure(h.hresult));
  if (fields.disposition === CR_DISP.DENIED || fields.disposition === CR_DISP.REVOKED || failure) {
    return denied(requestId, message ?? fields.lastStatus ?? fields.result ?? 'Denied', failure?.hresult);
  }
  if (fields.disposition === CR_DISP.UNDER_SUBMISSION || (message !== undefined && message.includes(TAKEN_UNDER_SUBMISSION))) {
    return { status: 'pending', ...(requestId === undefined ? {} : { requestId }), dispositionMessage: message ?? TAKEN_UNDER_SUBMISSION };
  }
  return undefined;
}

function denied(requestId: number | undefined, dispositionMessage: string, hresult: string | undefined): PageOutcome {
  return {
    status: 'denied',
    ...(requestId === undefined ? {} : { requestId }),
    dispositionMessage,
    ...(hresult === undefined ? {} : { hresult }),
  };
}

function numberOf(match: RegExpExecArray | null): number | undefined {
  return match ? Number(match[1]) : undefined;
}

function unexpected(message: string, html: string, httpStatus: number, fields: DlFields): AdcsError {
  const known = fields.lastStatus ?? fields.result;
  return new AdcsError('ADCS_UNEXPECTED_PAGE', message, {
    httpStatus,
    excerpt: excerptOf(html),
    ...(fields.dispositionMessage === undefined ? {} : { dispositionMessage: fields.dispositionMessage }),
    ...(known === undefined ? {} : { hresult: findHresult(known)?.hresult }),
  });
}
