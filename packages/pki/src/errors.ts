/**
 * The one error type of `@certbridge/pki`. Every parser and builder in this package throws
 * `PkiError` (never a library's own error) so callers can map bad input to a 4xx without
 * guessing which ASN.1 library failed.
 */
export type PkiErrorCode = 'MALFORMED' | 'UNSUPPORTED' | 'BAD_SIGNATURE';

export class PkiError extends Error {
  override readonly name = 'PkiError';
  readonly code: PkiErrorCode;

  constructor(code: PkiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * Runs `fn` and turns anything it throws that is not already a `PkiError` into a MALFORMED
 * `PkiError` naming `what`. The ASN.1 libraries throw plain `Error`, `TypeError` or
 * `RangeError` on hostile input; callers must only ever see one type.
 */
export function guard<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof PkiError) throw err;
    const detail = err instanceof Error ? err.message : String(err);
    throw new PkiError('MALFORMED', `${what}: ${detail}`, { cause: err });
  }
}

/** Throws a MALFORMED `PkiError` unless `cond` holds; keeps structural checks one line each. */
export function check(cond: unknown, what: string): asserts cond {
  if (!cond) throw new PkiError('MALFORMED', what);
}
