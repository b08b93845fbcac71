import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../../errors.ts';
import { toAppError } from '../../http/error-handler.ts';

/**
 * The EST error table (RFC 7030 section 4.2.3: a status code and a human-readable text/plain
 * body, never a stack trace). Every AppError code has exactly one row; each row is tested in
 * est-errors.test.ts.
 */
export const EST_STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  MALFORMED_CSR: 400,
  BAD_CSR_SIGNATURE: 400,
  POLICY_VIOLATION: 403,
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
  DATABASE_UNAVAILABLE: 503,
  CA_REJECTED: 403,
  CA_AUTH_FAILED: 502,
  CA_TLS_ERROR: 502,
  INTERNAL: 500,
};

/** The text body of an EST error: the public message plus, for policy violations, each problem. */
export function estErrorText(err: AppError): string {
  const violations = err.details?.['violations'];
  const lines = [err.message];
  if (Array.isArray(violations)) for (const v of violations) if (v && typeof v === 'object') lines.push(`- ${String((v as Record<string, unknown>)['field'])}: ${String((v as Record<string, unknown>)['message'])}`);
  return lines.join('\n') + '\n';
}

/** Renders anything thrown by an EST handler; only bugs are logged as errors. */
export function sendEstError(request: FastifyRequest, reply: FastifyReply, thrown: unknown, opts: { basicRealm?: string | undefined } = {}): FastifyReply {
  const err = toAppError(thrown);
  if (err.code === 'INTERNAL') request.log.error({ err: thrown }, 'EST request failed');
  else request.log.info({ code: err.code }, err.message);
  const status = EST_STATUS[err.code];
  if (status === 401 && opts.basicRealm) reply.header('www-authenticate', `Basic realm="${opts.basicRealm}"`);
  const retryAfter = err.details?.['retryAfterSeconds'];
  if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
  else if (status === 503) reply.header('retry-after', '60');
  return reply.status(status).type('text/plain; charset=utf-8').send(estErrorText(err));
}
