/**
 * `GET /{tenant}/oauth2/v2.0/authorize`: the emulated sign-in and consent. There is no page to
 * click through: the user named by `login_hint` (else the tenant's first user) signs in at
 * once and answers the consent prompt with their configured decision, and the browser is sent
 * straight back to `redirect_uri` with `code` and `state`, or with `error=access_denied`.
 * Problems found before the redirect URI is trusted are shown as an error page, as Entra does.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { AppRecord } from '../directory.ts';
import { aadsts, EntraError } from './errors.ts';
import { resolveApp, resolveTenant, type EntraContext } from './context.ts';
import { parseScopes } from './scopes.ts';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function errorPage(res: ServerResponse, e: EntraError): void {
  const html = `<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body><h1>Sorry, but we’re having trouble signing you in.</h1><p id="error">AADSTS${e.code}: ${escapeHtml(e.message)}</p></body></html>`;
  res.writeHead(400, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
  res.end(html);
}

function redirect(res: ServerResponse, target: URL): void {
  res.writeHead(302, { location: target.toString(), 'content-length': '0' });
  res.end();
}

export function authorizeEndpoint(ctx: EntraContext, res: ServerResponse, segment: string, q: URLSearchParams): void {
  const redirectUri = q.get('redirect_uri') ?? '';
  let trusted: { app: AppRecord; target: URL };
  try {
    const tenant = resolveTenant(ctx, segment);
    const clientId = q.get('client_id');
    if (!clientId) throw aadsts.invalidRequestMissing('client_id');
    const app = resolveApp(ctx, tenant, segment, clientId);
    if (!app.redirectUris.includes(redirectUri)) throw aadsts.redirectMismatch(redirectUri, app.appId);
    trusted = { app, target: new URL(redirectUri) };
  } catch (e) {
    if (e instanceof EntraError) return errorPage(res, e);
    throw e;
  }
  const { app, target } = trusted;
  const state = q.get('state');
  const fail = (error: string, code: number, description: string): void => {
    target.searchParams.set('error', error);
    target.searchParams.set('error_description', `AADSTS${code}: ${description} Trace ID: ${randomUUID()} Correlation ID: ${randomUUID()}`);
    if (state !== null) target.searchParams.set('state', state);
    redirect(res, target);
  };
  if (q.get('response_type') !== 'code') return fail('unsupported_response_type', 700054, "response_type 'code' is the only one enabled for the application.");
  const challenge = q.get('code_challenge') ?? undefined;
  const method = q.get('code_challenge_method') ?? (challenge ? 'plain' : undefined);
  if (method !== undefined && method !== 'S256' && method !== 'plain') return fail('invalid_request', 501491, `Invalid code_challenge_method '${method}'.`);
  if (challenge !== undefined && !/^[A-Za-z0-9\-._~]{43,128}$/.test(challenge)) return fail('invalid_request', 501491, 'Invalid size of Code_Challenge parameter.');
  const scope = q.get('scope') ?? '';
  const tenantRecord = ctx.dir.tenants.get(app.tenantId);
  try {
    parseScopes(scope, tenantRecord?.domain ?? segment, false);
  } catch (e) {
    if (e instanceof EntraError) return fail(e.error, e.code, e.message);
    throw e;
  }
  const hint = q.get('login_hint');
  const user = hint ? ctx.dir.user(app.tenantId, hint) : ctx.dir.usersOf(app.tenantId)[0];
  if (!user) return fail('login_required', 50058, 'A silent sign-in request was sent but no user is signed in.');
  if (user.consent === 'deny') return fail('access_denied', 65004, 'User declined to consent to access the app.');
  const code = ctx.grants.issueCode({
    tenantId: app.tenantId, appId: app.appId, redirectUri, scope, userOid: user.objectId,
    codeChallenge: challenge, codeChallengeMethod: method as 'S256' | 'plain' | undefined,
  });
  target.searchParams.set('code', code);
  if (state !== null) target.searchParams.set('state', state);
  target.searchParams.set('session_state', randomUUID());
  redirect(res, target);
}
