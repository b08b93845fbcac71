/** Entra authorization code flow with PKCE and refresh tokens, as Certbridge's OAuth connections use it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorizationCodeCredential } from '@azure/identity';
import { startAzureSim, type AzureSim, type AppInfo, type TenantInfo, type UserInfo } from '../src/index.ts';
import { claimsOf, form, https, pkce } from './helpers.ts';

const REDIRECT = 'https://certbridge.example.test/api/v1/connections/azure/oauth/callback';
const SCOPE = 'https://graph.microsoft.com/Application.ReadWrite.All offline_access openid';
let sim: AzureSim;
let tenant: TenantInfo;
let app: AppInfo;
let secret: string;
let alice: UserInfo;

beforeAll(async () => {
  sim = await startAzureSim();
  tenant = sim.admin.addTenant({ domain: 'northwind.onmicrosoft.com' });
  app = sim.admin.addApp(tenant.id, { displayName: 'certbridge-oauth', redirectUris: [REDIRECT] });
  secret = sim.admin.addPassword(app.appId).secret;
  alice = sim.admin.addUser(tenant.id, { userPrincipalName: 'alice@northwind.onmicrosoft.com', displayName: 'Alice' });
  sim.admin.addUser(tenant.id, { userPrincipalName: 'bob@northwind.onmicrosoft.com', consent: 'deny' });
});
afterAll(() => sim.close());

async function authorize(params: Record<string, string>, tenantSegment = tenant.id) {
  const q = new URLSearchParams({ client_id: app.appId, response_type: 'code', redirect_uri: REDIRECT, scope: SCOPE, state: 'st-123', ...params });
  return https(`${sim.authorityHost}/${tenantSegment}/oauth2/v2.0/authorize?${q}`, sim.caPem);
}

function redirectParams(res: { status: number; headers: Record<string, string | string[] | undefined> }): URLSearchParams {
  expect(res.status).toBe(302);
  const location = new URL(String(res.headers.location));
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
  return location.searchParams;
}

async function token(fields: Record<string, string>) {
  const f = form({ client_id: app.appId, client_secret: secret, ...fields });
  return https(`${sim.authorityHost}/${tenant.id}/oauth2/v2.0/token`, sim.caPem, { method: 'POST', ...f });
}

describe('authorization code + PKCE', () => {
  it('ok/code redeemed with the verifier gives delegated Graph and refresh tokens; refresh rotates', async () => {
    const { verifier, challenge } = pkce();
    const params = redirectParams(await authorize({ code_challenge: challenge, code_challenge_method: 'S256', login_hint: 'alice@northwind.onmicrosoft.com' }));
    expect(params.get('state')).toBe('st-123');
    const res = await token({ grant_type: 'authorization_code', code: params.get('code') ?? '', redirect_uri: REDIRECT, code_verifier: verifier });
    const body = res.json();
    expect(res.status).toBe(200);
    const c = claimsOf(body.access_token as string);
    expect([c.aud, c.scp, c.oid, c.upn, c.tid]).toEqual(['https://graph.microsoft.com', 'Application.ReadWrite.All', alice.objectId, 'alice@northwind.onmicrosoft.com', tenant.id]);
    expect(claimsOf(body.id_token as string).preferred_username).toBe('alice@northwind.onmicrosoft.com');
    const refreshed = (await token({ grant_type: 'refresh_token', refresh_token: body.refresh_token as string, scope: 'https://vault.azure.net/user_impersonation offline_access' })).json();
    expect(claimsOf(refreshed.access_token as string).aud).toBe('https://vault.azure.net');
    expect(refreshed.refresh_token).not.toBe(body.refresh_token);
    const narrowed = (await token({ grant_type: 'refresh_token', refresh_token: refreshed.refresh_token as string, scope: 'https://graph.microsoft.com/User.Read' })).json();
    expect([claimsOf(narrowed.access_token as string).scp, typeof narrowed.refresh_token]).toEqual(['User.Read', 'string']);
    const me = await https(`${sim.graphUrl}/v1.0/me`, sim.caPem, { headers: { authorization: `Bearer ${body.access_token as string}` } });
    expect(me.json().userPrincipalName).toBe('alice@northwind.onmicrosoft.com');
  });

  it('fail/a wrong code_verifier is AADSTS501481; fail/a redeemed code is AADSTS54005', async () => {
    const { challenge } = pkce();
    const code = redirectParams(await authorize({ code_challenge: challenge, code_challenge_method: 'S256' })).get('code') ?? '';
    const bad = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: pkce().verifier });
    expect([bad.status, bad.json().error, bad.json().error_codes]).toEqual([400, 'invalid_grant', [501481]]);
    const plain = redirectParams(await authorize({})).get('code') ?? '';
    expect((await token({ grant_type: 'authorization_code', code: plain, redirect_uri: REDIRECT })).status).toBe(200);
    const again = await token({ grant_type: 'authorization_code', code: plain, redirect_uri: REDIRECT });
    expect([again.status, again.json().error_codes]).toEqual([400, [54005]]);
  });

  it('fail/a user who declines consent is sent back with access_denied and the state', async () => {
    const params = redirectParams(await authorize({ login_hint: 'bob@northwind.onmicrosoft.com' }));
    expect([params.get('error'), params.get('state'), params.get('code')]).toEqual(['access_denied', 'st-123', null]);
    expect(params.get('error_description')).toMatch(/^AADSTS65004: User declined to consent to access the app\./);
  });

  it('fail/an unregistered redirect_uri shows an error page instead of redirecting', async () => {
    const res = await authorize({ redirect_uri: 'https://evil.example.test/cb' });
    expect([res.status, res.headers.location]).toEqual([400, undefined]);
    expect(res.text).toContain('AADSTS50011: The redirect URI &#39;https://evil.example.test/cb&#39; specified in the request does not match');
  });

  it('fail/revoked sessions make the refresh token AADSTS50173; fail/a code past ten minutes is AADSTS70008', async () => {
    const code = redirectParams(await authorize({ login_hint: 'alice@northwind.onmicrosoft.com' })).get('code') ?? '';
    const refresh = (await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT })).json().refresh_token as string;
    sim.admin.revokeSessions(tenant.id, 'alice@northwind.onmicrosoft.com');
    expect((await token({ grant_type: 'refresh_token', refresh_token: refresh })).json().error_codes).toEqual([50173]);
    const late = redirectParams(await authorize({})).get('code') ?? '';
    sim.admin.advanceTime(11 * 60_000);
    expect((await token({ grant_type: 'authorization_code', code: late, redirect_uri: REDIRECT })).json().error_codes).toEqual([70008]);
  });

  it('ok/AuthorizationCodeCredential (@azure/identity) redeems a code for a confidential app', async () => {
    const code = redirectParams(await authorize({ scope: 'https://graph.microsoft.com/User.Read offline_access openid profile', login_hint: 'alice@northwind.onmicrosoft.com' })).get('code') ?? '';
    const cred = new AuthorizationCodeCredential(tenant.id, app.appId, secret, code, REDIRECT, { authorityHost: sim.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: sim.caPem } });
    const t = await cred.getToken('https://graph.microsoft.com/User.Read');
    expect(claimsOf(t.token).scp).toBe('User.Read');
  });
});
