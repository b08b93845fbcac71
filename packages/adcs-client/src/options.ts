/**
 * AdcsClient options and their normalisation. The certsrv URL must be HTTPS: NTLM and Basic
 * credentials and the channel binding only make sense over TLS.
 */
import type { AuthKind } from './auth/types.ts';

export interface AdcsClientOptions {
  /** `https://ca.corp.example` or `https://ca.corp.example/certsrv/`. */
  baseUrl: string;
  username: string;
  password: string;
  /** NetBIOS domain for NTLM (`CORP`) or Kerberos realm for `kerberos`/`negotiate`. */
  domain: string;
  auth: AuthKind;
  /** PEM of the CA(s) that issued the IIS certificate; default is Node's public roots. */
  ca?: string;
  /** Default true. False accepts an untrusted chain but the host name is still verified. */
  rejectUnauthorized?: boolean;
  timeoutMs?: number;
  /** Keep-alive connections per client (each authenticated once). Default 2. */
  maxSockets?: number;
  /** Kerberos: a keytab instead of the password (a file path, or the keytab's bytes, kept in the client's private cache directory). */
  keytab?: string | Uint8Array;
  /** Kerberos: the service principal, default `HTTP@<host>`. */
  servicePrincipal?: string;
  /** Kerberos: krb5.conf to use (default: the system's, or KRB5_CONFIG). */
  krb5Config?: string;
  /** Kerberos: KDCs of the realm `domain` (`host` or `host:port`); the client then uses a krb5.conf of its own naming only them. */
  kdcs?: readonly string[];
}

export interface NormalisedOptions extends Required<Pick<AdcsClientOptions, 'username' | 'password' | 'domain' | 'auth'>> {
  origin: URL;
  /** Path prefix ending in `/`, e.g. `/certsrv/`. */
  certsrvPath: string;
  ca?: string;
  rejectUnauthorized: boolean;
  timeoutMs: number;
  maxSockets: number;
  keytab?: string | Uint8Array;
  servicePrincipal?: string;
  krb5Config?: string;
  kdcs?: readonly string[];
}

const AUTH_KINDS: readonly AuthKind[] = ['ntlm', 'kerberos', 'negotiate', 'basic'];

/** Validates options; throws TypeError for configuration mistakes. */
export function normaliseOptions(options: AdcsClientOptions): NormalisedOptions {
  let url: URL;
  try {
    url = new URL(options.baseUrl);
  } catch {
    throw new TypeError(`baseUrl ${JSON.stringify(options.baseUrl)} is not a URL`);
  }
  if (url.protocol !== 'https:') throw new TypeError('baseUrl must use https: (credentials and channel binding need TLS)');
  if (!AUTH_KINDS.includes(options.auth)) throw new TypeError(`auth must be one of ${AUTH_KINDS.join(', ')}`);
  const trimmed = url.pathname.replace(/\/+$/, '');
  const certsrvPath = /\/certsrv$/i.test(trimmed) ? `${trimmed}/` : `${trimmed}/certsrv/`;
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError('timeoutMs must be a positive number');
  return {
    origin: new URL(url.origin),
    certsrvPath,
    username: options.username,
    password: options.password,
    domain: options.domain,
    auth: options.auth,
    rejectUnauthorized: options.rejectUnauthorized ?? true,
    timeoutMs,
    maxSockets: options.maxSockets ?? 2,
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.keytab ? { keytab: options.keytab } : {}),
    ...(options.servicePrincipal ? { servicePrincipal: options.servicePrincipal } : {}),
    ...(options.krb5Config ? { krb5Config: options.krb5Config } : {}),
    ...(options.kdcs?.length ? { kdcs: [...options.kdcs] } : {}),
  };
}
