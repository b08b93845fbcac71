import { AppError, type ErrorCode } from '../../errors.ts';
import type { StoredProblem } from './acme-tables.ts';

/** RFC 8555 section 6.7 error types (`urn:ietf:params:acme:error:<type>`) used by this server. */
export type AcmeProblemType =
  | 'malformed' | 'badNonce' | 'badSignatureAlgorithm' | 'badPublicKey' | 'unauthorized' | 'accountDoesNotExist'
  | 'orderNotReady' | 'badCSR' | 'rejectedIdentifier' | 'unsupportedIdentifier' | 'serverInternal' | 'rateLimited'
  | 'incorrectResponse' | 'connection' | 'dns' | 'tls' | 'externalAccountRequired' | 'alreadyRevoked'
  | 'badRevocationReason' | 'invalidContact' | 'unsupportedContact' | 'notFound' | 'unsupportedMediaType' | 'payloadTooLarge';

/**
 * THE mapping table: every ACME problem this server emits, with its HTTP status and its URN.
 * `notFound`, `unsupportedMediaType` and `payloadTooLarge` are not RFC types: they render as
 * `malformed` (the RFC's catch-all) with the status HTTP requires.
 */
export const PROBLEMS: Record<AcmeProblemType, { status: number; urn: string }> = {
  malformed: { status: 400, urn: 'malformed' },
  badNonce: { status: 400, urn: 'badNonce' },
  badSignatureAlgorithm: { status: 400, urn: 'badSignatureAlgorithm' },
  badPublicKey: { status: 400, urn: 'badPublicKey' },
  unauthorized: { status: 403, urn: 'unauthorized' },
  accountDoesNotExist: { status: 400, urn: 'accountDoesNotExist' },
  orderNotReady: { status: 403, urn: 'orderNotReady' },
  badCSR: { status: 400, urn: 'badCSR' },
  rejectedIdentifier: { status: 400, urn: 'rejectedIdentifier' },
  unsupportedIdentifier: { status: 400, urn: 'unsupportedIdentifier' },
  serverInternal: { status: 500, urn: 'serverInternal' },
  rateLimited: { status: 429, urn: 'rateLimited' },
  incorrectResponse: { status: 403, urn: 'incorrectResponse' },
  connection: { status: 400, urn: 'connection' },
  dns: { status: 400, urn: 'dns' },
  tls: { status: 400, urn: 'tls' },
  externalAccountRequired: { status: 401, urn: 'externalAccountRequired' },
  alreadyRevoked: { status: 400, urn: 'alreadyRevoked' },
  badRevocationReason: { status: 400, urn: 'badRevocationReason' },
  invalidContact: { status: 400, urn: 'invalidContact' },
  unsupportedContact: { status: 400, urn: 'unsupportedContact' },
  notFound: { status: 404, urn: 'malformed' },
  unsupportedMediaType: { status: 415, urn: 'malformed' },
  payloadTooLarge: { status: 413, urn: 'malformed' },
};

/** How service errors (errors.ts codes) read to an ACME client. */
export const PROBLEM_FOR_CODE: Record<ErrorCode, AcmeProblemType> = {
  BAD_REQUEST: 'malformed',
  VALIDATION_FAILED: 'malformed',
  MALFORMED_CSR: 'badCSR',
  BAD_CSR_SIGNATURE: 'badCSR',
  POLICY_VIOLATION: 'rejectedIdentifier',
  UNAUTHENTICATED: 'unauthorized',
  FORBIDDEN: 'unauthorized',
  CSRF_FAILED: 'unauthorized',
  NOT_FOUND: 'notFound',
  CONFLICT: 'malformed',
  RATE_LIMITED: 'rateLimited',
  PAYLOAD_TOO_LARGE: 'payloadTooLarge',
  UNSUPPORTED_MEDIA_TYPE: 'unsupportedMediaType',
  NOT_SUPPORTED: 'malformed',
  CA_UNAVAILABLE: 'serverInternal',
  DATABASE_UNAVAILABLE: 'serverInternal',
  CA_REJECTED: 'rejectedIdentifier',
  CA_AUTH_FAILED: 'serverInternal',
  CA_TLS_ERROR: 'serverInternal',
  INTERNAL: 'serverInternal',
};

/** An ACME failure: thrown by ACME code, rendered by the ACME error handler only. */
export class AcmeProblem extends Error {
  readonly type: AcmeProblemType;
  readonly subproblems: { type: string; detail: string; identifier: { type: string; value: string } }[] | undefined;
  constructor(type: AcmeProblemType, detail: string, options?: { cause?: unknown; subproblems?: AcmeProblem['subproblems'] }) {
    super(detail, options);
    this.name = 'AcmeProblem';
    this.type = type;
    this.subproblems = options?.subproblems;
  }
  get status(): number {
    return PROBLEMS[this.type].status;
  }
  get urn(): string {
    return `urn:ietf:params:acme:error:${PROBLEMS[this.type].urn}`;
  }
  toJSON(): StoredProblem & { subproblems?: unknown } {
    return { type: this.urn, detail: this.message, status: this.status, ...(this.subproblems ? { subproblems: this.subproblems } : {}) };
  }
}

/** Anything thrown while serving ACME, as an ACME problem; AppErrors keep their safe message. */
export function toAcmeProblem(err: unknown): AcmeProblem {
  if (err instanceof AcmeProblem) return err;
  if (err instanceof AppError) {
    const violations = err.details?.['violations'];
    const extra = Array.isArray(violations) ? `: ${violations.map((v: { message?: string }) => v.message ?? '').join('; ')}` : '';
    return new AcmeProblem(PROBLEM_FOR_CODE[err.code], `${err.message}${extra}`, { cause: err });
  }
  const e = err as { code?: string; statusCode?: number };
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new AcmeProblem('payloadTooLarge', 'the JWS is larger than this server accepts');
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new AcmeProblem('unsupportedMediaType', 'ACME requests must be sent as application/jose+json');
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return new AcmeProblem('malformed', 'the request could not be read');
  return new AcmeProblem('serverInternal', 'an internal error occurred; it has been logged', { cause: err });
}
