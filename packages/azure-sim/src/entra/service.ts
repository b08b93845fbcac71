/** The Microsoft Entra (v2.0) origin: routes, form decoding and the one place errors are rendered. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, clientRequestId, parseForm, pathSegments, readBody, sendJson } from '../http.ts';
import type { ActiveFault } from '../faults.ts';
import type { ServiceHandler } from '../server.ts';
import { aadsts, EntraError, sendEntraError } from './errors.ts';
import type { EntraContext } from './context.ts';
import { authorizeEndpoint } from './authorize.ts';
import { instanceDiscovery, jwks, openidConfiguration } from './discovery.ts';
import { tokenEndpoint } from './token.ts';

/** The rest of an oversized body is never read, so the connection cannot carry another request. */
const CLOSE = { connection: 'close' };
const FAULTS: Record<number, () => EntraError> = { 429: aadsts.throttled, 503: aadsts.unavailable, 403: aadsts.forbidden, 500: aadsts.serverError };

export function createEntraService(ctx: EntraContext): ServiceHandler {
  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const parts = pathSegments(url.pathname)?.filter(Boolean);
    if (!parts) throw new EntraError(400, 'invalid_request', 90100, 'Invalid request. Request is malformed or invalid.');
    const method = req.method ?? 'GET';
    const tail = parts.slice(1).join('/');
    if (method === 'GET' && tail === 'discovery/instance' && parts[0] === 'common') return instanceDiscovery(ctx, res, url.searchParams);
    if (method === 'GET' && tail === 'v2.0/.well-known/openid-configuration') return openidConfiguration(ctx, res, parts[0]);
    if (method === 'GET' && tail === 'discovery/v2.0/keys') return jwks(ctx, res, parts[0]);
    if (method === 'GET' && tail === 'oauth2/v2.0/authorize') return authorizeEndpoint(ctx, res, parts[0], url.searchParams);
    if (tail === 'oauth2/v2.0/token') {
      if (method !== 'POST') throw new EntraError(400, 'invalid_request', 900561, `The endpoint only accepts POST requests. Received a ${method} request.`);
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/x-www-form-urlencoded') throw aadsts.invalidRequestMissing('grant_type');
      return tokenEndpoint(ctx, req, res, parts[0], parseForm(await readBody(req)));
    }
    sendJson(res, 404, { error: 'not_found', error_description: `No Entra endpoint at ${url.pathname}` });
  }

  return {
    service: 'entra',
    async handle(req, res, url) {
      try {
        await route(req, res, url);
      } catch (e) {
        if (e instanceof BodyTooLargeError) return sendEntraError(res, new EntraError(413, 'invalid_request', 90004, 'The request is not properly formatted: the body is too large.'), clientRequestId(req), CLOSE);
        if (!(e instanceof EntraError)) throw e;
        sendEntraError(res, e, clientRequestId(req));
      }
    },
    fault(req, res, fault: ActiveFault) {
      const status = fault.status ?? 500;
      const headers: Record<string, string> = status === 429 || status === 503 ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
      sendEntraError(res, (FAULTS[status] ?? aadsts.serverError)(), clientRequestId(req), headers);
    },
  };
}
