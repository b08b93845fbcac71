/**
 * Microsoft Graph error responses: `{"error":{"code","message","innerError":{"date",
 * "request-id","client-request-id"}}}` with Graph's response headers.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientRequestId, sendJson } from '../http.ts';

export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The Graph errors the emulator answers with. */
export const graphErrors = {
  tokenEmpty: () => new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.'),
  tokenMalformed: () => new GraphError(401, 'InvalidAuthenticationToken', 'IDX14100: JWT is not well formed, there are no dots (.).'),
  tokenInvalid: () => new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure.'),
  tokenAudience: () => new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.'),
  tokenExpired: () => new GraphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.'),
  tokenTenant: () => new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid issuer.'),
  denied: () => new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'),
  notFound: (id: string) => new GraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`),
  noRoute: (path: string) => new GraphError(400, 'BadRequest', `Resource not found for the segment '${path}'.`),
  badJson: () => new GraphError(400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.'),
  badValue: (property: string, resource: string) => new GraphError(400, 'Request_BadRequest', `Invalid value specified for property '${property}' of resource '${resource}'.`),
  unsupportedFilter: () => new GraphError(400, 'Request_UnsupportedQuery', "Unsupported or invalid query filter clause specified for property 'appId' of resource 'Application'."),
  meNeedsUser: () => new GraphError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.'),
  methodNotAllowed: () => new GraphError(405, 'Request_BadRequest', 'The request method is not allowed for the resource.'),
  throttled: () => new GraphError(429, 'TooManyRequests', 'Too many requests.'),
  unavailable: () => new GraphError(503, 'serviceNotAvailable', 'Service unavailable. Retry the request later.'),
  internal: () => new GraphError(500, 'generalException', 'An unexpected error occurred.'),
} as const;

export function graphHeaders(req: IncomingMessage): Record<string, string> {
  return { 'request-id': randomUUID(), 'client-request-id': clientRequestId(req), 'odata-version': '4.0' };
}

export function sendGraphError(req: IncomingMessage, res: ServerResponse, e: GraphError, extra: Record<string, string> = {}): void {
  const headers = { ...graphHeaders(req), ...extra };
  if (e.status === 401) headers['www-authenticate'] = 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"';
  sendJson(res, e.status, {
    error: {
      code: e.code,
      message: e.message,
      innerError: { date: new Date().toISOString().slice(0, 19), 'request-id': headers['request-id'], 'client-request-id': headers['client-request-id'] },
    },
  }, headers);
}
