/**
 * Scope strings of the v2.0 endpoints: `https://graph.microsoft.com/.default`,
 * `https://vault.azure.net/user_impersonation`, bare Graph permissions (`User.Read`) and the
 * OpenID scopes. One token is for one resource, as Entra enforces.
 */
import { GRAPH_RESOURCE, RESOURCE_APP_IDS, VAULT_RESOURCE } from '../tokens.ts';
import { aadsts, EntraError } from './errors.ts';

export interface ParsedScopes {
  resource: string;
  /** Permission names for the resource (`.default` kept as is). */
  permissions: string[];
  offlineAccess: boolean;
  openid: boolean;
}

const OIDC = new Set(['openid', 'profile', 'email', 'offline_access']);
const KNOWN = new Set([GRAPH_RESOURCE, VAULT_RESOURCE]);

function splitResource(scope: string): { resource: string; permission: string } | undefined {
  const idx = scope.lastIndexOf('/');
  if (idx <= 0) return undefined;
  // `https://graph.microsoft.com//.default` (double slash) is accepted by Entra as well.
  const resource = scope.slice(0, idx).replace(/\/+$/, '');
  return { resource: RESOURCE_APP_IDS[resource.toLowerCase()] ?? resource, permission: scope.slice(idx + 1) };
}

/** Parses a space-separated scope list; throws the AADSTS error Entra answers for bad ones. */
export function parseScopes(raw: string, tenantName: string, clientCredentials: boolean): ParsedScopes {
  const items = raw.split(' ').filter(Boolean);
  let resource: string | undefined;
  const permissions: string[] = [];
  for (const item of items) {
    if (OIDC.has(item) && !clientCredentials) continue;
    const split = splitResource(item);
    const r = split?.resource ?? GRAPH_RESOURCE;
    const perm = split ? split.permission : item;
    if (!KNOWN.has(r)) throw aadsts.resourceNotFound(r, tenantName);
    if (clientCredentials && perm !== '.default') throw aadsts.invalidScopeDefault(item);
    if (resource && resource !== r) {
      throw new EntraError(400, 'invalid_request', 28000, `Provided value for the input parameter scope is not valid because it contains more than one resource. Scope ${raw} is not valid.`);
    }
    resource = r;
    permissions.push(perm);
  }
  if (!resource) {
    if (clientCredentials) throw aadsts.invalidRequestMissing('scope');
    // Only OpenID scopes: Entra issues a Graph token for User.Read.
    resource = GRAPH_RESOURCE;
    permissions.push('User.Read');
  }
  return { resource, permissions, offlineAccess: items.includes('offline_access'), openid: items.includes('openid') };
}

/** Delegated permissions granted for `.default`: the ones Certbridge's connections need. */
export function delegatedPermissions(p: ParsedScopes): string[] {
  if (!p.permissions.includes('.default')) return p.permissions;
  return p.resource === VAULT_RESOURCE ? ['user_impersonation'] : ['User.Read', 'Application.ReadWrite.All'];
}
