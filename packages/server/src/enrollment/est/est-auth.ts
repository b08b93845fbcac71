import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../errors.ts';
import type { EnrollmentEndpoints, Endpoint } from '../settings/endpoints.ts';

/** The DER of the TLS client certificate the peer presented, if any (the HTTPS listener requests, never requires, one). */
export function peerCertificateDer(request: FastifyRequest): Uint8Array | undefined {
  const socket = request.raw.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const cert = socket.getPeerCertificate(false);
  return cert && cert.raw ? new Uint8Array(cert.raw) : undefined;
}

function basicCredentials(request: FastifyRequest): { username: string; password: string } | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export type EstClient = {
  certificate?: Awaited<ReturnType<EnrollmentEndpoints['checkClientCertificate']>> & { ok: true };
  /** Who is asking, to match a retry to its request (RFC 7030 section 4.2.3): `basic:<user>` and/or `cert:<sha256>`. */
  identity: string;
};

/**
 * RFC 7030 section 3.2.3/3.3.2 authentication per the endpoint's setting: HTTP Basic with the
 * sealed secret, a TLS client certificate issued by the profile's CA, or both. `requireCertificate`
 * is set by simplereenroll, which always needs the current certificate (and then, on a Basic
 * endpoint, needs no secret: RFC 7030 section 3.3.2). Missing or wrong
 * credentials: UNAUTHENTICATED (401); a certificate that is revoked, expired or foreign: FORBIDDEN (403).
 */
export async function authenticateEst(request: FastifyRequest, ep: Endpoint, endpoints: EnrollmentEndpoints, requireCertificate = false): Promise<EstClient> {
  const mode = ep.settings.est_auth;
  const identity: string[] = [];
  // simplereenroll authenticates with the current certificate; 'both' still wants the secret too.
  if (mode === 'both' || (mode === 'basic' && !requireCertificate)) {
    const creds = basicCredentials(request);
    if (!creds) throw new AppError('UNAUTHENTICATED', 'HTTP Basic credentials are required');
    if (!endpoints.checkBasic(ep, creds.username, creds.password)) throw new AppError('UNAUTHENTICATED', 'the EST username or password is wrong');
    identity.push(`basic:${creds.username}`);
  }
  if (mode === 'basic' && !requireCertificate) return { identity: identity.join(' ') };
  const der = peerCertificateDer(request);
  if (!der) throw new AppError('UNAUTHENTICATED', 'a TLS client certificate is required');
  const check = await endpoints.checkClientCertificate(ep, der);
  if (!check.ok) throw new AppError('FORBIDDEN', check.reason);
  identity.push(`cert:${check.info.fingerprintSha256}`);
  return { certificate: check, identity: identity.join(' ') };
}
