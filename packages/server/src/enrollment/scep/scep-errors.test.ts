import { describe, expect, it } from 'vitest';
import { AppError, type ErrorCode } from '../../errors.ts';
import { failInfoOf, SCEP_FAIL_INFO } from './scep-errors.ts';
import type { FailInfo } from './scep-oids.ts';

/** Each row of the SCEP error table (RFC 8894 section 3.2.1.4 failInfo of a signed FAILURE). */
describe('SCEP error table', () => {
  it.each(Object.entries({
    BAD_REQUEST: 'badRequest', VALIDATION_FAILED: 'badRequest', MALFORMED_CSR: 'badRequest', BAD_CSR_SIGNATURE: 'badMessageCheck',
    POLICY_VIOLATION: 'badRequest', UNAUTHENTICATED: 'badRequest', FORBIDDEN: 'badRequest', CSRF_FAILED: 'badRequest', NOT_FOUND: 'badCertId',
    CONFLICT: 'badRequest', RATE_LIMITED: 'badRequest', PAYLOAD_TOO_LARGE: 'badRequest', UNSUPPORTED_MEDIA_TYPE: 'badRequest', NOT_SUPPORTED: 'badAlg',
    CA_UNAVAILABLE: 'badRequest', CA_REJECTED: 'badRequest', CA_AUTH_FAILED: 'badRequest', CA_TLS_ERROR: 'badRequest', DATABASE_UNAVAILABLE: 'badRequest', INTERNAL: 'badRequest',
  } satisfies Record<ErrorCode, FailInfo>))('ok/%s answers failInfo %s', (code, failInfo) => {
    expect(failInfoOf(new AppError(code as ErrorCode, 'x'))).toBe(failInfo);
    expect(SCEP_FAIL_INFO[code as ErrorCode]).toBe(failInfo);
  });

  it('ok/an error naming its failInfo overrides the table (badMessageCheck for a bad signature)', () => {
    expect(failInfoOf(new AppError('BAD_REQUEST', 'signature', { failInfo: 'badMessageCheck' }))).toBe('badMessageCheck');
  });

  it('fail/an unknown failInfo name falls back to the table', () => {
    expect(failInfoOf(new AppError('NOT_FOUND', 'x', { failInfo: 'badEverything' }))).toBe('badCertId');
  });
});
