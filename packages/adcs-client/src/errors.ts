/**
 * The one error type of the ADCS web enrollment client.
 *
 * A thrown `AdcsError` means "the CA could not be asked" or "the CA answered something we cannot
 * use"; an orderly denial is a result (`{ status: 'denied' }`), not an exception, except where
 * the caller asked for something that has no result shape (templates, CA chain).
 * `retryable` tells the caller whether another ADCS server (or a later attempt) may succeed, so the
 * server-side backend can fail over on network errors, 5xx and timeouts but not on a denial.
 */
export type AdcsErrorCode =
  | 'ADCS_DENIED'
  | 'ADCS_UNAVAILABLE'
  | 'ADCS_AUTH_FAILED'
  | 'ADCS_TLS'
  | 'ADCS_UNEXPECTED_PAGE'
  | 'ADCS_TIMEOUT';

export interface AdcsErrorDetails {
  httpStatus?: number;
  /** HRESULT as Windows prints it, lower-case hex with `0x` prefix, e.g. `0x80094012`. */
  hresult?: string;
  dispositionMessage?: string;
  /** At most {@link EXCERPT_MAX} characters of the response body, tags stripped. */
  excerpt?: string;
  /** Node/OpenSSL error code when the failure came from the socket (e.g. `CERT_HAS_EXPIRED`). */
  causeCode?: string;
  retryable?: boolean;
  /**
   * A submission (certfnsh.asp) was sent in full and no answer came (the connection was cut, or
   * the answer timed out): the CA may hold the request, perhaps as an issued certificate, that the
   * caller never learnt of. Never set for reads, which change nothing at the CA.
   */
  answerLost?: boolean;
  cause?: unknown;
}

export const EXCERPT_MAX = 300;

/**
 * Default retry classification per code. TLS problems are per server (one server's expired
 * certificate does not mean the next one's is), so a failover may help; a denial or bad
 * credentials are the same on every server of the CA.
 */
const RETRYABLE_BY_CODE: Record<AdcsErrorCode, boolean> = {
  ADCS_DENIED: false,
  ADCS_UNAVAILABLE: true,
  ADCS_AUTH_FAILED: false,
  ADCS_TLS: true,
  ADCS_UNEXPECTED_PAGE: false,
  ADCS_TIMEOUT: true,
};

export class AdcsError extends Error {
  override readonly name = 'AdcsError';
  readonly code: AdcsErrorCode;
  readonly httpStatus?: number;
  readonly hresult?: string;
  readonly dispositionMessage?: string;
  readonly excerpt?: string;
  readonly causeCode?: string;
  readonly retryable: boolean;
  readonly answerLost: boolean;

  constructor(code: AdcsErrorCode, message: string, details: AdcsErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.httpStatus = details.httpStatus;
    this.hresult = details.hresult;
    this.dispositionMessage = details.dispositionMessage;
    this.excerpt = details.excerpt;
    this.causeCode = details.causeCode;
    this.answerLost = details.answerLost ?? false;
    // 5xx is always worth another server even when the caller classified it otherwise.
    const serverFault = details.httpStatus !== undefined && details.httpStatus >= 500;
    this.retryable = details.retryable ?? (serverFault || RETRYABLE_BY_CODE[code]);
  }
}

/**
 * The error a caller throws when it must turn a `{ status: 'denied' }` result into an exception
 * (e.g. an API that can only answer issued or failed). Carries the disposition and HRESULT.
 */
export function deniedError(denial: { requestId?: number; dispositionMessage: string; hresult?: string }): AdcsError {
  const id = denial.requestId === undefined ? '' : ` (request ${denial.requestId})`;
  return new AdcsError('ADCS_DENIED', `the CA denied the request${id}: ${denial.dispositionMessage}`, {
    dispositionMessage: denial.dispositionMessage,
    ...(denial.hresult ? { hresult: denial.hresult } : {}),
  });
}

/** Type guard that survives duplicated module instances (checks the shape, not the prototype). */
export function isAdcsError(value: unknown): value is AdcsError {
  return value instanceof AdcsError
    || (value instanceof Error && value.name === 'AdcsError' && typeof (value as { code?: unknown }).code === 'string');
}
