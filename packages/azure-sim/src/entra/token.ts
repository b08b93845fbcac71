/**
 * `POST /{tenant}/oauth2/v2.0/token`: client_credentials (secret or certificate assertion),
 * authorization_code with PKCE (RFC 7636, S256 and plain) and refresh_token.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppRecord, TenantRecord } from '../directory.ts';
import { b64url } from '../jwt.ts';
import { sendJson } from '../http.ts';
import { aadsts } from './errors.ts';
import { authenticateClient } from './client-auth.ts';
import { resolveApp, resolveTenant, type EntraContext } from './context.ts';
import { delegatedPermissions, parseScopes } from './scopes.ts';

function required(form: Map<string, string>, name: string): string {
  const v = form.get(name);
  if (v === undefined || v === '') throw aadsts.invalidRequestMissing(name);
  return v;
}

/** Client id and secret from HTTP Basic (RFC 6749 section 2.3.1: both form-urlencoded first). */
function basicCredentials(req: IncomingMessage): { id: string; secret: string } | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i < 0) return undefined;
  return { id: decodeURIComponent(text.slice(0, i)), secret: decodeURIComponent(text.slice(i + 1)) };
}

export async function tokenEndpoint(ctx: EntraContext, req: IncomingMessage, res: ServerResponse, segment: string, form: Map<string, string>): Promise<void> {
  const tenant = resolveTenant(ctx, segment);
  const grantType = required(form, 'grant_type');
  const basic = basicCredentials(req);
  const clientId = form.get('client_id') || basic?.id;
  if (!clientId) throw aadsts.invalidRequestMissing('client_id');
  const app = resolveApp(ctx, tenant, segment, clientId);
  const creds = { secret: form.get('client_secret') ?? basic?.secret, assertion: form.get('client_assertion'), assertionType: form.get('client_assertion_type') };
  const base = ctx.authorityHost();
  const audiences = [`${base}/${segment}/oauth2/v2.0/token`, `${base}/${app.tenantId}/oauth2/v2.0/token`];
  const tenantRecord = ctx.dir.tenants.get(app.tenantId) as TenantRecord;
  // Public clients (no credentials registered) redeem codes without authenticating, as SPA/native apps do.
  const isConfidential = app.passwordCredentials.length > 0 || app.keyCredentials.length > 0;
  const needsAuth = grantType === 'client_credentials' || isConfidential || creds.secret !== undefined || creds.assertion !== undefined;
  switch (grantType) {
    case 'client_credentials': {
      // App-only tokens are always for one tenant: `/common` and `/organizations` name none.
      if (!tenant) throw aadsts.noTenant();
      const scopes = parseScopes(required(form, 'scope'), tenantRecord.domain, true);
      authenticateClient(ctx.dir, app, creds, audiences);
      const roles = scopes.resource === 'https://graph.microsoft.com' ? [...app.graphRoles] : [];
      const t = ctx.tokens.issue({ tenantId: app.tenantId, appId: app.appId, resource: scopes.resource, oid: app.servicePrincipalId, roles, lifetimeSeconds: ctx.tokenLifetimeSeconds });
      sendJson(res, 200, { token_type: 'Bearer', expires_in: t.expiresIn, ext_expires_in: t.expiresIn, access_token: t.token });
      return;
    }
    case 'authorization_code': {
      const code = required(form, 'code');
      const grant = ctx.grants.code(code);
      if (!grant || grant.appId !== app.appId) throw aadsts.invalidGrant();
      if (needsAuth) authenticateClient(ctx.dir, app, creds, audiences);
      if (grant.redeemed) throw aadsts.codeRedeemed();
      if (grant.expiresAt <= ctx.dir.clock.now()) throw aadsts.codeExpired();
      if (form.get('redirect_uri') !== grant.redirectUri) throw aadsts.redirectMismatch(form.get('redirect_uri') ?? '', app.appId);
      if (grant.codeChallenge !== undefined) {
        const verifier = form.get('code_verifier');
        if (!verifier) throw aadsts.pkceMissing();
        const computed = grant.codeChallengeMethod === 'plain' ? verifier : b64url(createHash('sha256').update(verifier).digest());
        if (computed !== grant.codeChallenge) throw aadsts.pkceMismatch();
      }
      grant.redeemed = true;
      issueDelegated(ctx, res, app, grant.userOid, grant.scope, form.get('client_info') === '1', false);
      return;
    }
    case 'refresh_token': {
      const grant = ctx.grants.refresh(required(form, 'refresh_token'));
      if (!grant || grant.appId !== app.appId) throw aadsts.invalidGrant();
      if (needsAuth) authenticateClient(ctx.dir, app, creds, audiences);
      const user = ctx.dir.users.get(grant.userOid);
      if (!user || grant.issuedAt < user.refreshTokensValidFrom) throw aadsts.grantRevoked();
      if (grant.expiresAt <= ctx.dir.clock.now()) throw aadsts.refreshExpired();
      // A refresh may narrow or switch the resource (Entra's multi-resource refresh tokens).
      issueDelegated(ctx, res, app, grant.userOid, form.get('scope') || grant.scope, form.get('client_info') === '1', true);
      return;
    }
    default:
      throw aadsts.unsupportedGrant(grantType);
  }
}

/** `rotate`: a refresh always answers with a new refresh token, whatever scope it asked for. */
function issueDelegated(ctx: EntraContext, res: ServerResponse, app: AppRecord, userOid: string, scope: string, clientInfo: boolean, rotate: boolean): void {
  const user = ctx.dir.users.get(userOid);
  if (!user) throw aadsts.grantRevoked();
  const tenant = ctx.dir.tenants.get(app.tenantId) as TenantRecord;
  const parsed = parseScopes(scope, tenant.domain, false);
  const scp = delegatedPermissions(parsed);
  const t = ctx.tokens.issue({ tenantId: app.tenantId, appId: app.appId, resource: parsed.resource, oid: user.objectId, scp, upn: user.userPrincipalName, lifetimeSeconds: ctx.tokenLifetimeSeconds });
  const body: Record<string, unknown> = {
    token_type: 'Bearer',
    scope: scp.map((p) => `${parsed.resource}/${p}`).join(' '),
    expires_in: t.expiresIn,
    ext_expires_in: t.expiresIn,
    access_token: t.token,
  };
  if (parsed.offlineAccess || rotate) body.refresh_token = ctx.grants.issueRefresh({ tenantId: app.tenantId, appId: app.appId, userOid, scope });
  if (parsed.openid) body.id_token = ctx.tokens.idToken({ issuer: `${ctx.authorityHost()}/${app.tenantId}/v2.0`, audience: app.appId, tenantId: app.tenantId, oid: user.objectId, upn: user.userPrincipalName, name: user.displayName, lifetimeSeconds: 3600 });
  // MSAL asks for client_info to key its account cache by home object id and tenant.
  if (clientInfo) body.client_info = b64url(JSON.stringify({ uid: user.objectId, utid: app.tenantId }));
  sendJson(res, 200, body);
}
