import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { route } from '../../http/route-table.ts';
import { azureConnectionDto } from './azure-connection-service.ts';
import type { AzureModule } from './azure-module.ts';
import { oauthStartSchema } from './azure-schemas.ts';
import { OAUTH_CALLBACK_PATH } from './azure-oauth.ts';
import { AppError } from '../../errors.ts';

/** The UI page a failed browser sign-in lands on (the page the OAuth sign-in starts from). */
export const OAUTH_FAILURE_PAGE = '/connections/azure';

/** A browser navigation asks for HTML first; API clients and tests ask for JSON or nothing. */
const acceptsHtml = (accept: string | undefined): boolean => Boolean(accept && /\btext\/html\b/.test(accept));

const callbackQuery = z.object({
  state: z.string().max(200).optional(),
  code: z.string().max(8000).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(4000).optional(),
  session_state: z.string().max(200).optional(),
});

/**
 * The OAuth sign-in of Azure connections: start (authenticated, answers the authorize URL the
 * browser opens) and the redirect URI Entra sends the browser back to (public: see azure-oauth.ts).
 */
export function registerAzureOauthRoutes(app: FastifyInstance, deps: { azure: AzureModule }): void {
  const { oauth } = deps.azure;
  route(app, {
    method: 'POST', url: '/api/v1/connections/azure/oauth/start', tag: 'connections', body: oauthStartSchema,
    summary: 'Start an OAuth (authorization code + PKCE) sign-in for an Azure connection: answers authorizeUrl to open in the browser, valid 10 minutes, once',
  }, async ({ principal, body }) => oauth.start(principal, body));
  route(app, {
    method: 'GET', url: OAUTH_CALLBACK_PATH, tag: 'connections', public: true, query: callbackQuery, responses: { 201: 'Connection created', 302: 'Sent back to returnTo' },
    summary: 'OAuth redirect URI: redeems the code with the PKCE verifier and creates the connection (the state names the user who started it)',
  }, async ({ request, query, reply }) => {
    let outcome: Awaited<ReturnType<typeof oauth.callback>>;
    try {
      outcome = await oauth.callback(query);
    } catch (err) {
      // Entra sends a person's browser here: a failure lands on the UI's Azure connections page
      // with a banner (code, reason, message) instead of a JSON body. API clients keep the JSON error.
      if (!(err instanceof AppError) || !acceptsHtml(request.headers.accept)) throw err;
      const reason = typeof err.details?.['reason'] === 'string' ? err.details['reason'] : '';
      const target = new URLSearchParams({ oauthError: err.code, ...(reason ? { oauthReason: reason } : {}), oauthMessage: err.message.slice(0, 500) });
      return reply.redirect(`${OAUTH_FAILURE_PAGE}?${target.toString()}`, 302);
    }
    const { connection, returnTo } = outcome;
    if (returnTo) return reply.redirect(`${returnTo}${returnTo.includes('?') ? '&' : '?'}connection=${encodeURIComponent(connection.id)}`, 302);
    return reply.status(201).send(azureConnectionDto(connection));
  });
}
