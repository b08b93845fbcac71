/** What the Entra handlers share: the directory, the token signer, the grant stores and where they are served. */
import type { AppRecord, Directory, TenantRecord } from '../directory.ts';
import type { TokenService } from '../tokens.ts';
import { aadsts } from './errors.ts';
import type { Grants } from './grants.ts';

export interface EntraContext {
  dir: Directory;
  tokens: TokenService;
  grants: Grants;
  /** `https://127.0.0.1:<port>`: the authority host. */
  authorityHost: () => string;
  tokenLifetimeSeconds: number;
}

/** `common` and `organizations` name no tenant: the app (or the code) decides which one. */
export const MULTI_TENANT_SEGMENTS = new Set(['common', 'organizations', 'consumers']);

/** Resolves the `{tenant}` path segment; unknown ones answer AADSTS90002. */
export function resolveTenant(ctx: EntraContext, segment: string): TenantRecord | undefined {
  if (MULTI_TENANT_SEGMENTS.has(segment.toLowerCase())) return undefined;
  const t = ctx.dir.tenant(segment);
  if (!t) throw aadsts.tenantNotFound(segment);
  return t;
}

/** Finds the app in the named tenant, or in any tenant for `/common`; AADSTS700016 otherwise. */
export function resolveApp(ctx: EntraContext, tenant: TenantRecord | undefined, segment: string, appId: string): AppRecord {
  const app = tenant ? ctx.dir.app(tenant.id, appId) : ctx.dir.apps.get(appId.toLowerCase());
  if (!app) throw aadsts.appNotFound(appId, tenant?.domain ?? segment);
  return app;
}
