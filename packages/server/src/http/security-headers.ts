import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * The UI's Content-Security-Policy: everything from this origin only. The built UI (Vite) loads
 * its scripts and styles from hashed files and uses no inline script or style attribute, so no
 * 'unsafe-inline' is needed; `data:` images cover the SVG favicon and chart exports.
 */
export const UI_CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/** One year, the value HSTS preload lists ask for. */
const HSTS_MAX_AGE_SECONDS = 365 * 86400;

/** What helmet is asked for: the UI's CSP, frame denial, no referrer, HSTS on the HTTPS listener only. */
export function helmetOptions(https: boolean): HelmetOptions {
  return {
    contentSecurityPolicy: { useDefaults: false, directives: UI_CSP_DIRECTIVES },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // Cross-origin isolation headers would break CRL/CA downloads embedded by other origins.
    crossOriginEmbedderPolicy: false,
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    strictTransportSecurity: https ? { maxAge: HSTS_MAX_AGE_SECONDS, includeSubDomains: false } : false,
  };
}

/**
 * The headers helmet sets for these options, recorded once from its middleware at start. With
 * these options they depend on nothing in the request (no CSP nonce), and @fastify/helmet ran the
 * middleware again on every request (~3% of the server's CPU per REST issuance in a profile).
 */
export function securityHeaders(options: { https: boolean }): [name: string, value: string][] {
  const recorded = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: unknown) => recorded.set(name, String(value)),
    removeHeader: (name: string) => recorded.delete(name),
  };
  let failure: unknown;
  helmet(helmetOptions(options.https))({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => { failure = err; });
  if (failure) throw failure;
  return [...recorded];
}

/**
 * Security headers on every answer (CSP, frame denial, nosniff, no referrer). HSTS is sent by the
 * HTTPS listener only: a plain-HTTP listener cannot promise TLS (RFC 6797 §7.2 tells browsers to
 * ignore it there anyway), and the HTTP port must stay usable for CRL/OCSP/SCEP relying parties.
 * `/docs` (Swagger UI) sets its own, looser CSP through the swagger-ui plugin's `staticCSP`: the
 * headers go on the raw response, so a header a route sets through Fastify replaces them.
 */
export async function registerSecurityHeaders(app: FastifyInstance, options: { https: boolean }): Promise<void> {
  const headers = securityHeaders(options);
  app.addHook('onRequest', (_request, reply, done) => {
    for (const [name, value] of headers) reply.raw.setHeader(name, value);
    done();
  });
}
