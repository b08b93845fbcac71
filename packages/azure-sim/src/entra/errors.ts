/**
 * Microsoft identity platform error responses: `{error, error_description, error_codes,
 * timestamp, trace_id, correlation_id, error_uri}`, the description starting with the AADSTS
 * code and ending with the trace/correlation/timestamp lines Entra appends. One table of the
 * AADSTS codes the emulator answers with.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { sendJson } from '../http.ts';

export class EntraError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly code: number,
    description: string,
  ) {
    super(description);
  }
}

/** Each row: HTTP status, OAuth `error`, AADSTS number, description builder. */
export const aadsts = {
  invalidRequestMissing: (param: string) => new EntraError(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${param}'.`),
  unsupportedGrant: (grant: string) => new EntraError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`),
  tenantNotFound: (tenant: string) =>
    new EntraError(400, 'invalid_request', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`),
  noTenant: () => new EntraError(400, 'invalid_request', 50059, 'No tenant-identifying information found in either the request or implied by any provided credentials.'),
  appNotFound: (appId: string, tenant: string) =>
    new EntraError(400, 'unauthorized_client', 700016, `Application with identifier '${appId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`),
  missingCredential: () => new EntraError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."),
  invalidSecret: (appId: string) =>
    new EntraError(401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${appId}'.`),
  expiredSecret: (appId: string) =>
    new EntraError(401, 'invalid_client', 7000222, `The provided client secret keys for app '${appId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`),
  malformedAssertion: () => new EntraError(401, 'invalid_client', 50027, 'JWT token is invalid or malformed.'),
  assertionType: () => new EntraError(400, 'invalid_request', 50012, "Client assertion type must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'."),
  assertionKeyNotFound: (thumbprint: string) =>
    new EntraError(401, 'invalid_client', 700027, `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprint}']`),
  assertionSignature: () => new EntraError(401, 'invalid_client', 700027, 'Client assertion contains an invalid signature. [Reason - The key was found, but the signature does not match.]'),
  assertionSubject: () => new EntraError(401, 'invalid_client', 700021, "Client assertion application identifier doesn't match 'client_id' parameter."),
  assertionAudience: (expected: string) => new EntraError(401, 'invalid_client', 700212, `No matching federated identity record found for presented assertion audience. The audience must be '${expected}'.`),
  assertionLifetime: () => new EntraError(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.'),
  invalidScopeDefault: (scope: string) =>
    new EntraError(400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`),
  resourceNotFound: (resource: string, tenant: string) =>
    new EntraError(400, 'invalid_resource', 500011, `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`),
  invalidGrant: () => new EntraError(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.'),
  codeRedeemed: () => new EntraError(400, 'invalid_grant', 54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.'),
  codeExpired: () => new EntraError(400, 'invalid_grant', 70008, 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.'),
  pkceMismatch: () => new EntraError(400, 'invalid_grant', 501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.'),
  pkceMissing: () => new EntraError(400, 'invalid_request', 50148, 'The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.'),
  redirectMismatch: (uri: string, appId: string) =>
    new EntraError(400, 'invalid_request', 50011, `The redirect URI '${uri}' specified in the request does not match the redirect URIs configured for the application '${appId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.`),
  grantRevoked: () => new EntraError(400, 'invalid_grant', 50173, 'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.'),
  refreshExpired: () => new EntraError(400, 'invalid_grant', 700082, 'The refresh token has expired due to inactivity. The token was issued on a date and was inactive for 90 days.'),
  throttled: () => new EntraError(429, 'temporarily_unavailable', 90055, 'Too many requests have been made by this tenant. Please retry the request after the number of seconds in the Retry-After header.'),
  unavailable: () => new EntraError(503, 'temporarily_unavailable', 90033, 'A transient error has occurred. Please try again.'),
  forbidden: () => new EntraError(403, 'access_denied', 53003, 'Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.'),
  serverError: () => new EntraError(500, 'server_error', 90014, 'An unexpected error occurred while processing the request.'),
} as const;

/** Entra writes timestamps as `2026-11-22 11:40:05Z`. */
function entraTimestamp(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export function sendEntraError(res: ServerResponse, e: EntraError, correlationId: string, headers: Record<string, string> = {}): void {
  const traceId = randomUUID();
  const timestamp = entraTimestamp(new Date());
  sendJson(
    res,
    e.status,
    {
      error: e.error,
      error_description: `AADSTS${e.code}: ${e.message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [e.code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${e.code}`,
    },
    { 'x-ms-request-id': traceId, 'client-request-id': correlationId, ...headers },
  );
}
