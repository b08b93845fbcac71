import { describe, expect, it } from 'vitest';
import { AdcsError, deniedError, isAdcsError, type AdcsErrorCode } from './errors.ts';

describe('AdcsError.retryable', () => {
  it.each([
    ['ok/unavailable-retryable', 'ADCS_UNAVAILABLE', undefined, true],
    ['ok/timeout-retryable', 'ADCS_TIMEOUT', undefined, true],
    ['ok/tls-retryable-on-another-server', 'ADCS_TLS', undefined, true],
    ['ok/auth-not-retryable', 'ADCS_AUTH_FAILED', 401, false],
    ['ok/denied-not-retryable', 'ADCS_DENIED', undefined, false],
    ['ok/unexpected-page-not-retryable', 'ADCS_UNEXPECTED_PAGE', 200, false],
    ['ok/any-5xx-retryable', 'ADCS_UNEXPECTED_PAGE', 502, true],
  ] as Array<[string, AdcsErrorCode, number | undefined, boolean]>)('%s', (_name, code, httpStatus, retryable) => {
    expect(new AdcsError(code, 'x', httpStatus === undefined ? {} : { httpStatus }).retryable).toBe(retryable);
  });
});

describe('deniedError', () => {
  it('ok/carries-disposition-and-hresult', () => {
    const e = deniedError({ requestId: 7, dispositionMessage: 'Denied by Policy Module  0x80094012, no permission.', hresult: '0x80094012' });
    expect([e.code, e.message, e.hresult, e.retryable, isAdcsError(e)]).toEqual(['ADCS_DENIED', 'the CA denied the request (request 7): Denied by Policy Module  0x80094012, no permission.', '0x80094012', false, true]);
  });
  it('fail/plain-error-is-not-adcs-error', () => {
    expect(isAdcsError(new Error('x'))).toBe(false);
  });
});
