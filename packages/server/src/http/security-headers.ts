import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

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

/**
 * Security headers on every answer (CSP, frame denial, nosniff, no referrer). HSTS is sent by the
 * HTTPS listener only: a plain-HTTP listener cannot promise TLS (RFC 6797 §7.2 tells browsers to
 * ignore it there anyway), and the HTTP port must stay usable for CRL/OCSP/SCEP relying parties.
 * `/docs` (Swagger UI) sets its own, looser CSP through the swagger-ui plugin's `staticCSP`.
 */
export async function registerSecurityHeaders(app: FastifyInstance, options: { https: boolean }): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: UI_CSP_DIRECTIVES },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // Cross-origin isolation headers would break CRL/CA downloads embedded by other origins.
    crossOriginEmbedderPolicy: false,
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    strictTransportSecurity: options.https ? { maxAge: HSTS_MAX_AGE_SECONDS, includeSubDomains: false } : false,
  });
}
