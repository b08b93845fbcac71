import { AppError, type ErrorCode } from '../../errors.ts';
import { FAIL_INFO, type FailInfo } from './scep-oids.ts';

/**
 * The SCEP error table: once a pkiMessage is read, every failure is a signed CertRep FAILURE
 * with this failInfo (RFC 8894 section 3.2.1.4); an error may name a more precise failInfo in
 * `details.failInfo` (e.g. badMessageCheck for a signature or envelope that does not verify).
 * Each row is tested in scep-errors.test.ts.
 */
export const SCEP_FAIL_INFO: Record<ErrorCode, FailInfo> = {
  BAD_REQUEST: 'badRequest',
  VALIDATION_FAILED: 'badRequest',
  MALFORMED_CSR: 'badRequest',
  BAD_CSR_SIGNATURE: 'badMessageCheck',
  POLICY_VIOLATION: 'badRequest',
  UNAUTHENTICATED: 'badRequest',
  FORBIDDEN: 'badRequest',
  CSRF_FAILED: 'badRequest',
  NOT_FOUND: 'badCertId',
  CONFLICT: 'badRequest',
  RATE_LIMITED: 'badRequest',
  PAYLOAD_TOO_LARGE: 'badRequest',
  UNSUPPORTED_MEDIA_TYPE: 'badRequest',
  NOT_SUPPORTED: 'badAlg',
  CA_UNAVAILABLE: 'badRequest',
  DATABASE_UNAVAILABLE: 'badRequest',
  CA_REJECTED: 'badRequest',
  CA_AUTH_FAILED: 'badRequest',
  CA_TLS_ERROR: 'badRequest',
  INTERNAL: 'badRequest',
};

export function failInfoOf(err: AppError): FailInfo {
  const named = err.details?.['failInfo'];
  return typeof named === 'string' && Object.hasOwn(FAIL_INFO, named) ? (named as FailInfo) : SCEP_FAIL_INFO[err.code];
}
