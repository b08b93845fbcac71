/**
 * The seam between the HTTP transport and the authentication schemes.
 *
 * IIS authenticates the TCP connection for NTLM (and, with `authPersistNonNTLM`, for Kerberos):
 * after one handshake the socket needs no further `Authorization` header until IIS answers 401
 * again. Basic is per request. A mechanism therefore either produces a fixed header for every
 * request, or runs a handshake bound to one socket.
 */
import type { TLSSocket } from 'node:tls';

export type AuthKind = 'ntlm' | 'kerberos' | 'negotiate' | 'basic';

export interface AuthHandshake {
  /**
   * The `Authorization` value for the next leg. `challenges` are the server's
   * `WWW-Authenticate` values from the previous 401 (undefined on the first leg).
   * Returns undefined when the mechanism has nothing more to say (the handshake failed).
   * Throws a plain Error for a malformed server token.
   */
  step(challenges: readonly string[] | undefined, socket: TLSSocket): Promise<string | undefined>;
}

export interface AuthMechanism {
  readonly kind: AuthKind;
  /** The auth-scheme this mechanism uses in headers (`NTLM`, `Negotiate`, `Basic`). */
  readonly scheme: string;
  /** Per-request header (Basic). When present no handshake is run. */
  staticHeader?(): string;
  /** Starts a connection-bound handshake. */
  startHandshake?(): AuthHandshake;
  /** Releases resources (a private Kerberos credential cache). */
  close?(): Promise<void>;
}

/** Extracts the base64 token following `scheme` in WWW-Authenticate values (first match). */
export function tokenFor(scheme: string, challenges: readonly string[]): Buffer | undefined {
  for (const value of challenges) {
    for (const part of value.split(',')) {
      const m = /^\s*([A-Za-z0-9_-]+)(?:\s+([A-Za-z0-9+/=]+))?\s*$/.exec(part);
      if (m && (m[1] ?? '').toLowerCase() === scheme.toLowerCase() && m[2]) return Buffer.from(m[2], 'base64');
    }
  }
  return undefined;
}

/** Auth-schemes offered in WWW-Authenticate values, e.g. `['Negotiate', 'NTLM']`. */
export function offeredSchemes(challenges: readonly string[]): string[] {
  const out: string[] = [];
  for (const value of challenges) {
    // A scheme is a token followed by whitespace or the end; `realm="x"` parts are parameters.
    for (const part of value.split(',')) {
      const m = /^\s*([A-Za-z0-9_.-]+)(?=\s|$)/.exec(part);
      if (m?.[1]) out.push(m[1]);
    }
  }
  return [...new Set(out)];
}
