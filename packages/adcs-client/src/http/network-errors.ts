/**
 * Maps socket, DNS and TLS failures of node:https to `AdcsError`s with the exact cause code, so
 * a "test connection" can say `CERT_HAS_EXPIRED` or `ERR_TLS_CERT_ALTNAME_INVALID` instead of
 * "request failed", and the failover logic can tell network trouble (retryable) from the rest.
 */
import { AdcsError } from '../errors.ts';

/** OpenSSL X509_V_ERR_* names Node reports as `err.code`, plus Node's own host name check. */
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const HINTS: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate is not signed by a trusted CA: add the issuing CA chain to the connection trust',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the issuer of the server certificate is not trusted: add the CA chain to the connection trust',
  SELF_SIGNED_CERT_IN_CHAIN: 'the server chain ends in a root that is not trusted: add that root to the connection trust',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server presents a self-signed certificate that is not trusted',
  CERT_HAS_EXPIRED: 'the server certificate has expired: renew the IIS binding certificate',
  CERT_NOT_YET_VALID: 'the server certificate is not valid yet (check clocks)',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate does not name the host in the connection URL',
};

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED',
]);

/**
 * Failures that can cut a connection after the server read a request. Refused connections, DNS
 * and unreachable hosts fail before anything is sent; TLS failures end the handshake first.
 */
const CUT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT']);

/**
 * Converts an error raised by a request or its socket; an `AdcsError` passes through. `sent`: a
 * submission had been written in full, so a cut connection may have lost the CA's answer.
 */
export function toAdcsError(error: unknown, url: string, sent = false): AdcsError {
  if (error instanceof AdcsError) return error;
  const err = error instanceof Error ? error : new Error(String(error));
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || /ssl|tls/i.test(code)) {
    const hint = HINTS[code] ?? err.message;
    return new AdcsError('ADCS_TLS', `TLS to ${url} failed: ${code || 'handshake error'}: ${hint}`, { causeCode: code || undefined, cause: err });
  }
  if (NETWORK_CODES.has(code) || err.message === 'socket hang up') {
    const causeCode = code || 'ECONNRESET';
    if (sent && CUT_CODES.has(causeCode)) {
      return new AdcsError('ADCS_UNAVAILABLE', `${url} cut the connection after the request was sent (${causeCode}): its answer was lost`, { causeCode, answerLost: true, cause: err });
    }
    return new AdcsError('ADCS_UNAVAILABLE', `cannot reach ${url}: ${code || err.message}`, { causeCode, cause: err });
  }
  return new AdcsError('ADCS_UNAVAILABLE', `request to ${url} failed: ${err.message}`, { ...(code ? { causeCode: code } : {}), cause: err });
}

export function timeoutError(url: string, timeoutMs: number, sent = false): AdcsError {
  return new AdcsError('ADCS_TIMEOUT', `no answer from ${url} within ${timeoutMs} ms`, { causeCode: 'ETIMEDOUT', ...(sent ? { answerLost: true } : {}) });
}
