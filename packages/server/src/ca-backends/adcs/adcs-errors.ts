import { isAdcsError, KNOWN_HRESULTS, type AdcsError } from '@certbridge/adcs-client';
import { AppError, type ErrorCode } from '../../errors.ts';
import type { IssueResult } from '../types.ts';

/**
 * One row per troubleshooting case of seed 000: how to recognise the client's AdcsError, the
 * API error code, and what the operator should do. Rows are checked in order; the first match
 * wins, the last row catches everything else. Each row has a test (test/adcs-errors.test.ts).
 */
export interface AdcsErrorRow {
  case: string;
  matches(e: AdcsError): boolean;
  code: ErrorCode;
  hint: string;
}

const tls = (causeCode: string, hint: string): AdcsErrorRow => ({
  case: `tls/${causeCode}`, code: 'CA_TLS_ERROR', hint, matches: (e) => e.code === 'ADCS_TLS' && e.causeCode === causeCode,
});
const network = (name: string, codes: string[], hint: string): AdcsErrorRow => ({
  case: `network/${name}`, code: 'CA_UNAVAILABLE', hint, matches: (e) => e.code === 'ADCS_UNAVAILABLE' && codes.includes(e.causeCode ?? ''),
});

export const ADCS_ERROR_TABLE: readonly AdcsErrorRow[] = [
  tls('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'the IIS certificate is not signed by a CA the connection trusts: put the issuing CA chain (PEM) in the connection caPem'),
  tls('UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'the server sends an incomplete chain whose issuer the connection does not trust: put the issuing and root CA certificates (PEM) in the connection caPem'),
  tls('SELF_SIGNED_CERT_IN_CHAIN', 'the IIS certificate chain ends in a root the connection does not trust: add that root to the connection caPem'),
  tls('CERT_HAS_EXPIRED', 'the IIS certificate has expired: renew the HTTPS binding certificate of the certsrv site'),
  tls('ERR_TLS_CERT_ALTNAME_INVALID', 'the IIS certificate does not name the host in the connection URL: use the host name the certificate was issued for'),
  { case: 'tls/other', code: 'CA_TLS_ERROR', hint: 'the TLS handshake failed: check the certsrv HTTPS binding and the connection caPem', matches: (e) => e.code === 'ADCS_TLS' },
  network('refused', ['ECONNREFUSED'], 'nothing listens on that host and port: check that IIS runs and the URL port'),
  network('dns', ['ENOTFOUND', 'EAI_AGAIN'], 'the host name in the connection URL does not resolve: check DNS or the URL'),
  { case: 'network/timeout', code: 'CA_UNAVAILABLE', hint: 'the server did not answer in time: check the network path, firewall and the server load', matches: (e) => e.code === 'ADCS_TIMEOUT' },
  { case: 'server/5xx', code: 'CA_UNAVAILABLE', hint: 'IIS answered with a server error: check the certsrv application pool and the CA service (certsvc)', matches: (e) => (e.httpStatus ?? 0) >= 500 },
  network('reset', ['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT'], 'the connection was cut: check proxies, load balancers and the firewall between Certbridge and the server'),
  {
    case: 'auth/scheme-not-offered', code: 'CA_AUTH_FAILED', hint: 'the server does not offer the configured authentication (e.g. Kerberos-only IIS with NTLM configured): change the connection auth',
    matches: (e) => e.code === 'ADCS_AUTH_FAILED' && /does not offer/.test(e.message),
  },
  {
    case: 'auth/rejected', code: 'CA_AUTH_FAILED',
    hint: 'the server refused the login: check the username, password and domain; with Extended Protection "Required" use ntlm or kerberos directly (not through a TLS-terminating proxy)',
    matches: (e) => e.code === 'ADCS_AUTH_FAILED',
  },
  { case: 'network/other', code: 'CA_UNAVAILABLE', hint: 'the server could not be reached', matches: (e) => e.code === 'ADCS_UNAVAILABLE' },
  { case: 'page/unexpected', code: 'CA_UNAVAILABLE', hint: 'the server answered a page Certbridge does not recognise: check that the URL points at certsrv', matches: () => true },
];

/** Per-server failure as listed in error details. */
export interface ServerFailure {
  server: string;
  connectionId: string;
  error: unknown;
  /** When it failed (failures of the request itself; a skipped server has none). */
  at?: Date;
  /** The account the request was sent as (DOMAIN\\user), to look it up at the CA. */
  account?: string;
}

/** The account a connection sends requests as, as ADCS lists it as the requester (DOMAIN\\user). */
export const requesterAccount = (connection: { domain: string; username: string }): string => `${connection.domain ? `${connection.domain}\\` : ''}${connection.username}`;

/** The server got the request and its answer never came: it may have acted on it (AdcsError.answerLost). */
export const answerWasLost = (f: ServerFailure): boolean => isAdcsError(f.error) && f.error.answerLost;

/**
 * What to tell the operator about servers that may hold a request whose answer was lost: web
 * enrollment cannot look a request up by anything Certbridge knows, so it names the server, the
 * moment and what to look for in that CA's request lists.
 */
export function lostAnswerNote(lost: ServerFailure[]): string {
  return lost.map((f) => `${f.server} got the request${f.at ? ` at ${f.at.toISOString()}` : ''} and the connection was cut before its answer, so it may hold that request too, `
    + `perhaps as an issued certificate Certbridge does not know of: look in that CA's Issued and Pending Requests for a request by ${f.account ?? 'the connection account'} at that moment, and revoke or deny it there.`).join(' ');
}

/** What an error says when no server answered and some may hold the request (both ADCS backends). */
export function lostAnswerError(lost: ServerFailure[]): { note: string; details: { answerLostAt?: string[] } } {
  if (lost.length === 0) return { note: '', details: {} };
  return { note: ` Before submitting again: ${lostAnswerNote(lost)}`, details: { answerLostAt: lost.map((f) => f.server) } };
}

/** `result` with the lost-answer note added to its warning (both ADCS backends: direct and through a connector). */
export function withLostAnswers(result: IssueResult, lost: ServerFailure[]): IssueResult {
  if (lost.length === 0) return result;
  const note = lostAnswerNote(lost);
  return { ...result, warning: result.warning ? `${result.warning} ${note}` : note };
}

export function rowFor(e: AdcsError): AdcsErrorRow {
  return ADCS_ERROR_TABLE.find((r) => r.matches(e))!;
}

function describe(f: ServerFailure) {
  if (!isAdcsError(f.error)) return { server: f.server, message: f.error instanceof Error ? f.error.message : String(f.error) };
  const row = rowFor(f.error);
  return {
    server: f.server, case: row.case, adcsCode: f.error.code, message: f.error.message,
    ...(f.error.causeCode ? { tlsCode: f.error.code === 'ADCS_TLS' ? f.error.causeCode : undefined, causeCode: f.error.causeCode } : {}),
    ...(f.error.httpStatus ? { httpStatus: f.error.httpStatus } : {}),
    ...(f.error.hresult ? { hresult: f.error.hresult } : {}),
  };
}

/**
 * The API error when no server of a CA could be asked: the first server's failure decides the
 * code (it is the one the operator configured first), every server's failure is in details.
 */
export function toAppError(caName: string, failures: ServerFailure[]): AppError {
  const first = failures[0];
  if (!first) return new AppError('CA_UNAVAILABLE', `CA ${caName} has no usable server (all circuits open or none configured)`, { servers: [] });
  if (!isAdcsError(first.error)) {
    return new AppError('CA_UNAVAILABLE', `CA ${caName}: ${first.server} could not be asked`, { servers: failures.map(describe) }, { cause: first.error });
  }
  const row = rowFor(first.error);
  const more = failures.length > 1 ? ` (and ${failures.length - 1} more server${failures.length > 2 ? 's' : ''} failed)` : '';
  const lost = lostAnswerError(failures.filter(answerWasLost));
  return new AppError(row.code, `CA ${caName}: ${first.server}: ${first.error.message}${more}. What to do: ${row.hint}${lost.note}`, {
    ...describe(first), hint: row.hint, servers: failures.map(describe), ...lost.details,
  }, { cause: first.error });
}

/** What to do about a denial, by HRESULT ([MS-WCCE] 2.2.2.9). */
const DENIAL_HINTS: Record<string, string> = {
  '0x80094800': 'the template is not offered by this CA: add it to "Certificate Templates to Issue" on the CA or pick another template in the profile',
  '0x80094012': 'the connection account may not enroll in this template: grant it Enroll on the template security tab',
  '0x80094014': 'a CA manager denied the request',
  '0x80094801': 'the request named no template: set the template of the profile',
  '0x80094811': 'the key is too small for the template: use a larger key',
};

/** A one-sentence reason for a denial: the HRESULT's meaning and what to do. */
export function denialReason(dispositionMessage: string, hresult: string | undefined, template: string | undefined): string {
  const known = hresult ? KNOWN_HRESULTS[hresult] : undefined;
  const hint = hresult ? DENIAL_HINTS[hresult] : undefined;
  const parts = [`ADCS denied the request${template ? ` for template ${template}` : ''}: ${dispositionMessage}`];
  if (known) parts.push(`(${known})`);
  if (hint) parts.push(`What to do: ${hint}`);
  return parts.join(' ');
}
