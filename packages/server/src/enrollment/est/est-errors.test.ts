import { describe, expect, it } from 'vitest';
import { AppError, type ErrorCode } from '../../errors.ts';
import { EST_STATUS, estErrorText } from './est-errors.ts';

/** Each row of the EST error table (RFC 7030 section 4.2.3: status + text/plain body). */
describe('EST error table', () => {
  it.each(Object.entries({
    BAD_REQUEST: 400, VALIDATION_FAILED: 400, MALFORMED_CSR: 400, BAD_CSR_SIGNATURE: 400, POLICY_VIOLATION: 403, UNAUTHENTICATED: 401,
    FORBIDDEN: 403, CSRF_FAILED: 403, NOT_FOUND: 404, CONFLICT: 409, RATE_LIMITED: 429, PAYLOAD_TOO_LARGE: 413, UNSUPPORTED_MEDIA_TYPE: 415,
    NOT_SUPPORTED: 501, CA_UNAVAILABLE: 503, CA_REJECTED: 403, CA_AUTH_FAILED: 502, CA_TLS_ERROR: 502, DATABASE_UNAVAILABLE: 503, INTERNAL: 500,
  } satisfies Record<ErrorCode, number>))('ok/%s answers HTTP %i', (code, status) => {
    expect(EST_STATUS[code as ErrorCode]).toBe(status);
  });

  it('ok/policy violations are listed one per line in the text body', () => {
    const err = new AppError('POLICY_VIOLATION', 'the request breaks policy strict (2 problems)', { violations: [{ field: 'sans[0]', message: 'not allowed' }, { field: 'key', message: 'RSA-1024 is too weak' }] });
    expect(estErrorText(err)).toBe('the request breaks policy strict (2 problems)\n- sans[0]: not allowed\n- key: RSA-1024 is too weak\n');
  });
});
