import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError, STATUS_BY_CODE } from '../errors.ts';
import { toAppError } from './error-handler.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';

const fastifyError = (code: string, statusCode = 400) => Object.assign(new Error(code), { code, statusCode });

describe('toAppError mapping table', () => {
  it.each([
    ['ok/AppError passes through', new AppError('CONFLICT', 'x'), 'CONFLICT', 409],
    ['ok/zod error is a validation failure', (() => { try { z.string().parse(1); } catch (e) { return e; } })(), 'VALIDATION_FAILED', 400],
    ['ok/oversize body', fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413), 'PAYLOAD_TOO_LARGE', 413],
    ['ok/unsupported media type', fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415), 'UNSUPPORTED_MEDIA_TYPE', 415],
    ['ok/bad content length', fastifyError('FST_ERR_CTP_INVALID_CONTENT_LENGTH'), 'BAD_REQUEST', 400],
    ['ok/empty json body', fastifyError('FST_ERR_CTP_EMPTY_JSON_BODY'), 'BAD_REQUEST', 400],
    ['ok/invalid json body', fastifyError('FST_ERR_CTP_INVALID_JSON_BODY'), 'BAD_REQUEST', 400],
    ['ok/bad url', fastifyError('FST_ERR_BAD_URL'), 'BAD_REQUEST', 400],
    ['ok/json syntax error', Object.assign(new SyntaxError('Unexpected token'), { statusCode: 400 }), 'BAD_REQUEST', 400],
    ['ok/postgres invalid text representation', Object.assign(new Error('invalid input syntax for type uuid'), { code: '22P02' }), 'BAD_REQUEST', 400],
    ['ok/other client errors', fastifyError('FST_SOMETHING_ELSE', 405), 'BAD_REQUEST', 400],
    ['ok/postgres shutting down (57P01) is a database outage', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }), 'DATABASE_UNAVAILABLE', 503],
    ['ok/postgres starting up (57P03)', Object.assign(new Error('the database system is starting up'), { code: '57P03' }), 'DATABASE_UNAVAILABLE', 503],
    ['ok/connection exception class 08', Object.assign(new Error('connection failure'), { code: '08006' }), 'DATABASE_UNAVAILABLE', 503],
    ['ok/node-postgres lost the connection between statements', new Error('Connection terminated unexpectedly'), 'DATABASE_UNAVAILABLE', 503],
    ['ok/node-postgres pool could not connect in time', new Error('timeout exceeded when trying to connect'), 'DATABASE_UNAVAILABLE', 503],
    ['fail/anything else is an internal error', new TypeError('boom'), 'INTERNAL', 500],
  ])('%s', (_n, err, code, status) => {
    const mapped = toAppError(err);
    expect([mapped.code, mapped.status]).toEqual([code, status]);
  });

  it('ok/every error code has an HTTP status in the 4xx/5xx range', () => {
    expect(Object.values(STATUS_BY_CODE).every((s) => s >= 400 && s < 600)).toBe(true);
  });
});

describe('keyset cursor', () => {
  it('ok/round trip', () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    expect(decodeCursor(encodeCursor(at, '7f1d2a8e-0000-4000-8000-000000000001'))).toEqual({ createdAt: at, id: '7f1d2a8e-0000-4000-8000-000000000001' });
  });
  it.each([['fail/garbage', 'zzz'], ['fail/bad date', Buffer.from('nope|7f1d2a8e-0000-4000-8000-000000000001').toString('base64url')], ['fail/bad id', Buffer.from('2026-01-01T00:00:00Z|1').toString('base64url')]])('%s', (_n, c) => {
    expect(() => decodeCursor(c)).toThrow(AppError);
  });
});
