/**
 * One error type for the whole service. `code` is stable and part of the API contract
 * (SPEC "Errors"); `message` is safe to show to callers; `cause` stays in logs only.
 */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'VALIDATION_FAILED'
  | 'MALFORMED_CSR'
  | 'BAD_CSR_SIGNATURE'
  | 'POLICY_VIOLATION'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'CSRF_FAILED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'NOT_SUPPORTED'
  | 'CA_UNAVAILABLE'
  | 'CA_REJECTED'
  | 'CA_AUTH_FAILED'
  | 'CA_TLS_ERROR'
  | 'DATABASE_UNAVAILABLE'
  | 'INTERNAL';

const STATUS_BY_CODE: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  MALFORMED_CSR: 400,
  BAD_CSR_SIGNATURE: 400,
  POLICY_VIOLATION: 422,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  CSRF_FAILED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  NOT_SUPPORTED: 501,
  CA_UNAVAILABLE: 503,
  CA_REJECTED: 422,
  CA_AUTH_FAILED: 502,
  CA_TLS_ERROR: 502,
  DATABASE_UNAVAILABLE: 503,
  INTERNAL: 500,
};

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return STATUS_BY_CODE[this.code];
  }
}

export const notFound = (what: string, id: string): AppError =>
  new AppError('NOT_FOUND', `${what} ${JSON.stringify(id)} was not found`, { resource: what, id });

export const forbidden = (message = 'you may not do this'): AppError => new AppError('FORBIDDEN', message);

export const conflict = (message: string, details?: Record<string, unknown>): AppError =>
  new AppError('CONFLICT', message, details);

export { STATUS_BY_CODE };

/** The database went away under a request (restart, network): clients should retry (503 + Retry-After). */
export const databaseUnavailable = (cause: unknown): AppError =>
  new AppError('DATABASE_UNAVAILABLE', 'the database is unavailable (restarting or unreachable); nothing was changed, retry shortly', { retryAfterSeconds: 5 }, { cause });
