/**
 * OpenID Connect discovery for the v2.0 endpoints, the signing keys, and the instance
 * discovery answer MSAL asks for before trusting an authority host it does not know.
 */
import type { ServerResponse } from 'node:http';
import { sendJson } from '../http.ts';
import { resolveTenant, type EntraContext } from './context.ts';

export function openidConfiguration(ctx: EntraContext, res: ServerResponse, segment: string): void {
  const tenant = resolveTenant(ctx, segment);
  const host = ctx.authorityHost();
  const base = `${host}/${segment}`;
  // Multi-tenant documents carry a templated issuer, as Entra's `common` document does.
  const issuerTenant = tenant?.id ?? '{tenantid}';
  sendJson(res, 200, {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${host}/${issuerTenant}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${host.replace(/\/$/, '')}/oidc/userinfo`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
    kerberos_endpoint: `${base}/kerberos`,
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  });
}

export function jwks(ctx: EntraContext, res: ServerResponse, segment: string): void {
  resolveTenant(ctx, segment);
  sendJson(res, 200, { keys: [ctx.tokens.jwk()] });
}

/** `GET /common/discovery/instance?api-version=1.1&authorization_endpoint=…`: the sim's host is its own cloud. */
export function instanceDiscovery(ctx: EntraContext, res: ServerResponse, q: URLSearchParams): void {
  const host = new URL(ctx.authorityHost()).host;
  const endpoint = q.get('authorization_endpoint') ?? '';
  const tenant = /^https:\/\/[^/]+\/([^/]+)\//.exec(endpoint)?.[1] ?? 'common';
  sendJson(res, 200, {
    tenant_discovery_endpoint: `${ctx.authorityHost()}/${tenant}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  });
}
