import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthService } from '../auth/auth-service.ts';
import type { Principal } from '../auth/principal.ts';
import { AppError } from '../errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /**
     * The catalogue counter read with the bearer token (auth/token-lookup.ts), after the request
     * arrived: its catalogue lookups may pass it as CatalogCache.get's `observed`. Unset for
     * session (UI) requests, whose lookups read the counter themselves.
     */
    catalogVersion?: string;
  }
  interface FastifyContextConfig {
    public?: boolean;
  }
}

export const SESSION_COOKIE = 'certbridge_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Resolves the caller of every non-public route: `Authorization: Bearer <token>` first, else the
 * UI session cookie. Cookie-authenticated writes must echo the session's CSRF token in
 * `X-CSRF-Token` (synchronizer token pattern): a cross-site form can send the cookie, not the header.
 */
export function installAuthentication(app: FastifyInstance, auth: AuthService): void {
  // Anything under /api/ requires authentication unless its route says `public: true`.
  app.addHook('onRoute', (options) => {
    if (options.url.startsWith('/api/') && options.config?.public !== true) options.config = { ...options.config, public: false };
  });
  app.addHook('preHandler', async (request: FastifyRequest) => {
    if (request.routeOptions.config?.public !== false) return; // public routes and 404s
    const header = request.headers.authorization;
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      const found = match ? await auth.authenticateBearer(match[1]!) : null;
      if (!found) throw new AppError('UNAUTHENTICATED', 'the bearer token is invalid, expired or revoked');
      request.principal = found.principal;
      if (found.catalogVersion !== undefined) request.catalogVersion = found.catalogVersion;
      return;
    }
    const cookie = request.cookies?.[SESSION_COOKIE];
    if (cookie) {
      const session = await auth.authenticateSession(cookie);
      if (!session) throw new AppError('UNAUTHENTICATED', 'the session has expired; log in again');
      if (!SAFE_METHODS.has(request.method) && request.headers[CSRF_HEADER] !== session.csrfToken) {
        throw new AppError('CSRF_FAILED', `missing or wrong ${CSRF_HEADER} header`);
      }
      request.principal = session.principal;
      return;
    }
    throw new AppError('UNAUTHENTICATED', 'authentication required: send a bearer token or log in');
  });
}
