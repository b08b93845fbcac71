import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { ZodError } from 'zod';
import { AppError, databaseUnavailable } from '../errors.ts';
import { zodIssues } from './route-table.ts';

/** SPEC "Errors": `{"error": {"code", "message", "details"}}` with the matching status. */
export function sendError(reply: FastifyReply, err: AppError): FastifyReply {
  const retryAfter = err.details?.['retryAfterSeconds'];
  if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
  return reply.status(err.status).type('application/json').send({ error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } });
}

// Fastify's own decode failures, mapped to our codes (one table, each row tested).
const FASTIFY_CODES: Record<string, (e: FastifyError) => AppError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => new AppError('PAYLOAD_TOO_LARGE', 'the request body is larger than this endpoint accepts'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (e) => new AppError('UNSUPPORTED_MEDIA_TYPE', e.message),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => new AppError('BAD_REQUEST', 'the Content-Length does not match the body'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new AppError('BAD_REQUEST', 'the JSON body is empty'),
  FST_ERR_CTP_INVALID_JSON_BODY: () => new AppError('BAD_REQUEST', 'the body is not valid JSON'),
  FST_ERR_BAD_URL: () => new AppError('BAD_REQUEST', 'the URL is malformed'),
};

/** Converts anything thrown by a handler into the SPEC error shape; only real bugs become 500. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ZodError) return new AppError('VALIDATION_FAILED', 'the request is invalid', { issues: zodIssues(err) });
  const e = err as FastifyError & { code?: string; status?: number };
  if (e?.code && FASTIFY_CODES[e.code]) return FASTIFY_CODES[e.code]!(e);
  if (e instanceof SyntaxError && e.statusCode === 400) return new AppError('BAD_REQUEST', 'the body is not valid JSON');
  // PostgreSQL: a malformed UUID or number in a path segment reaches the database as text.
  if (e?.code === '22P02') return new AppError('BAD_REQUEST', 'an identifier in the request is malformed');
  if (isDatabaseUnavailable(e)) return databaseUnavailable(err);
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return new AppError('BAD_REQUEST', e.message);
  return new AppError('INTERNAL', 'an internal error occurred; it has been logged', undefined, { cause: err });
}

/**
 * The database went away under a request: SQLSTATE class 08 (connection exception) and 57P0x
 * (server shutting down / cannot connect now), node-postgres' own messages for a connection lost
 * between statements or a full pool (a refused new connection is marked by db/database.ts). A 503 tells
 * clients (and load balancers) to retry; nothing was committed because the transaction never ended.
 */
function isDatabaseUnavailable(e: { code?: string; message?: string } | undefined): boolean {
  if (!e) return false;
  if (typeof e.code === 'string' && (e.code.startsWith('08') || /^57P0[123]$/.test(e.code))) return true;
  return /Connection terminated|not queryable|timeout exceeded when trying to connect/.test(e.message ?? '');
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const appError = toAppError(err);
    if (appError.code === 'INTERNAL') request.log.error({ err }, 'unhandled error');
    else if (appError.code === 'DATABASE_UNAVAILABLE') request.log.warn({ err: { message: (err as Error).message, code: (err as { code?: string }).code } }, appError.message);
    else request.log.info({ code: appError.code }, appError.message);
    return sendError(reply, appError);
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, new AppError('NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]}`)));
}
