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

/** "defaultSrc" → "default-src", the CSP directive names (CSP Level 3 section 6). */
const directiveName = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * The security headers of every answer, in the order they are set: the set helmet 8 sends for the
 * options this server used to give @fastify/helmet (security-headers.test.ts compares the two).
 * Fixed strings, because that plugin rebuilt helmet's middleware from the options on every request.
 */
export function securityHeaders(options: { https: boolean }): [name: string, value: string][] {
  const csp = Object.entries(UI_CSP_DIRECTIVES).map(([key, sources]) => `${directiveName(key)} ${sources.join(' ')}`).join(';');
  return [
    ['Content-Security-Policy', csp],
    ['Cross-Origin-Opener-Policy', 'same-origin'],
    // Not same-origin, and no Cross-Origin-Embedder-Policy: cross-origin isolation would break
    // CRL/CA downloads embedded by other origins.
    ['Cross-Origin-Resource-Policy', 'cross-origin'],
    ['Origin-Agent-Cluster', '?1'],
    ['Referrer-Policy', 'no-referrer'],
    ...(options.https ? [['Strict-Transport-Security', `max-age=${HSTS_MAX_AGE_SECONDS}`] as [string, string]] : []),
    ['X-Content-Type-Options', 'nosniff'],
    ['X-DNS-Prefetch-Control', 'off'],
    ['X-Download-Options', 'noopen'],
    ['X-Frame-Options', 'DENY'],
    ['X-Permitted-Cross-Domain-Policies', 'none'],
    // "0" disables the legacy XSS auditors, which could be abused to leak data (OWASP advice).
    ['X-XSS-Protection', '0'],
  ];
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
