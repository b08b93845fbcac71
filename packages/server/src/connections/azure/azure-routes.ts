import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { route } from '../../http/route-table.ts';
import { azureConnectionDto } from './azure-connection-service.ts';
import type { AzureModule } from './azure-module.ts';
import { oauthStartSchema } from './azure-schemas.ts';
import { OAUTH_CALLBACK_PATH } from './azure-oauth.ts';

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
  }, async ({ query, reply }) => {
    const { connection, returnTo } = await oauth.callback(query);
    if (returnTo) return reply.redirect(`${returnTo}${returnTo.includes('?') ? '&' : '?'}connection=${encodeURIComponent(connection.id)}`, 302);
    return reply.status(201).send(azureConnectionDto(connection));
  });
}
