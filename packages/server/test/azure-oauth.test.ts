/**
 * The OAuth method against the emulated Entra: start → authorize (PKCE S256, state) → callback →
 * connection with a sealed msal-node cache; the refresh token keeps it working after the access
 * token expires. State mismatch, reuse, expiry and denied consent are refused and audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, cloudOf, followAuthorize, startAzureWorld, type AzureWorld } from './azure-fixtures.ts';
import { ENGINES, createTestEnv, userWithToken, bearer, type TestEnv } from './helpers.ts';

const CALLBACK = '/api/v1/connections/azure/oauth/callback';

describe.each(ENGINES)('Azure OAuth connections on %s', (engine) => {
  let env: TestEnv;
  let world: AzureWorld;
  let now = Date.now();
  beforeAll(async () => {
    world = await startAzureWorld();
    env = await createTestEnv(engine, { clock: { now: () => new Date(now) }, azure: { publicUrl: 'https://certbridge.test', oauthApps: world.oauthApps } });
  });
  afterAll(async () => {
    await env?.close();
    await world?.close();
  });

  const start = (body: object) => api(env, 'POST', '/api/v1/connections/azure/oauth/start', { tenantId: world.tenantId, ...cloudOf(world), ...body });
  const callback = (query: string) => env.app.inject({ method: 'GET', url: `${CALLBACK}${query}` });

  it('ok/round trip creates a connection whose refresh token outlives the access token', async () => {
    const started = await start({ name: 'oauth-graph', type: 'azure-client-secrets', loginHint: 'alice@contoso.onmicrosoft.com' });
    expect(started.statusCode).toBe(200);
    const authorize = new URL(started.json().authorizeUrl);
    expect({ challenge: authorize.searchParams.get('code_challenge_method'), state: authorize.searchParams.get('state'), redirect: authorize.searchParams.get('redirect_uri') })
      .toEqual({ challenge: 'S256', state: started.json().state, redirect: 'https://certbridge.test/api/v1/connections/azure/oauth/callback' });
    const back = await followAuthorize(world, started.json().authorizeUrl);
    const res = await callback(back.search);
    expect({ status: res.statusCode, method: res.json().method, signedInAs: res.json().oauth?.signedInAs, leaked: /refresh|secret"/i.test(res.body) })
      .toEqual({ status: 201, method: 'oauth', signedInAs: 'alice@contoso.onmicrosoft.com', leaked: false });
    const row = await env.core.azure.repo.find('oauth-graph');
    expect({ sealed: row!.oauth_cache_sealed!.startsWith('v1.'), plain: row!.oauth_cache_sealed!.includes('RefreshToken'), tenant: row!.tenant_id }).toEqual({ sealed: true, plain: false, tenant: world.tenantId });

    const first = (await api(env, 'POST', '/api/v1/connections/oauth-graph/test')).json();
    expect({ ok: first.ok, me: first.steps[1].detail }).toEqual({ ok: true, me: 'GET /me: signed in as alice@contoso.onmicrosoft.com' });
    // Two hours on: the access token has expired, msal-node redeems the sealed refresh token.
    world.sim.admin.advanceTime(2 * 3_600_000);
    world.sim.admin.clearCalls();
    const later = (await api(env, 'POST', '/api/v1/connections/oauth-graph/test')).json();
    const refreshed = world.sim.admin.calls('entra').filter((c) => c.path.endsWith('/oauth2/v2.0/token'));
    expect({ ok: later.ok, tokenCalls: refreshed.map((c) => c.status), cacheChanged: (await env.core.azure.repo.find('oauth-graph'))!.oauth_cache_sealed !== row!.oauth_cache_sealed })
      .toEqual({ ok: true, tokenCalls: [200], cacheChanged: true });
  });

  it('ok/key vault OAuth without a tenant: user_impersonation, back to returnTo, lists the vault as the user', async () => {
    const vaultUrl = await world.sim.admin.addVault('kv-oauth', { tenantId: world.tenantId });
    world.sim.admin.grantVaultAccess('kv-oauth', world.aliceId, ['list']);
    const started = await start({ name: 'oauth-vault', type: 'azure-key-vault', returnTo: '/connections', tenantId: undefined, vaultName: vaultUrl, loginHint: 'alice@contoso.onmicrosoft.com' });
    const authorize = new URL(started.json().authorizeUrl);
    expect({ scope: authorize.searchParams.get('scope'), tenant: authorize.pathname.split('/')[1] }).toEqual({ scope: expect.stringContaining('https://vault.azure.net/user_impersonation'), tenant: 'organizations' });
    const res = await callback((await followAuthorize(world, started.json().authorizeUrl)).search);
    const row = await env.core.azure.repo.find('oauth-vault');
    expect({ status: res.statusCode, location: res.headers.location, tenant: row!.tenant_id }).toEqual({ status: 302, location: `/connections?connection=${row!.id}`, tenant: world.tenantId });
    const report = (await api(env, 'POST', '/api/v1/connections/oauth-vault/test')).json();
    expect(report.steps.map((s: { step: string; ok: boolean }) => `${s.step}:${s.ok}`)).toEqual(['token:true', 'key-vault:true']);
  });

  it('fail/state mismatch and a reused state are refused', async () => {
    const started = await start({ name: 'oauth-mismatch', type: 'azure-client-secrets' });
    const back = await followAuthorize(world, started.json().authorizeUrl);
    const forged = await callback(`?code=${back.searchParams.get('code')}&state=not-the-state`);
    expect({ status: forged.statusCode, code: forged.json().error.code, reason: forged.json().error.details.reason }).toEqual({ status: 400, code: 'BAD_REQUEST', reason: 'state_mismatch' });
    expect((await callback(back.search)).statusCode).toBe(201);
    const replay = await callback(back.search);
    expect({ status: replay.statusCode, reason: replay.json().error.details.reason }).toEqual({ status: 400, reason: 'state_mismatch' });
  });

  it('fail/a code redeemed under another sign-in fails PKCE and creates nothing', async () => {
    const a = await start({ name: 'oauth-pkce-a', type: 'azure-client-secrets' });
    const b = await start({ name: 'oauth-pkce-b', type: 'azure-client-secrets' });
    const codeA = (await followAuthorize(world, a.json().authorizeUrl)).searchParams.get('code');
    const res = await callback(`?code=${encodeURIComponent(codeA!)}&state=${encodeURIComponent(b.json().state)}`);
    expect({ status: res.statusCode, reason: res.json().error.details.reason, aadsts: res.json().error.message.includes('AADSTS501481'), created: await env.core.azure.repo.find('oauth-pkce-b') })
      .toEqual({ status: 400, reason: 'code_redemption_failed', aadsts: true, created: undefined });
  });

  it('fail/the user who started the sign-in lost the right to manage connections', async () => {
    const admin2 = await userWithToken(env, 'azure-admin-2', 'admin');
    const started = await env.app.inject({ method: 'POST', url: '/api/v1/connections/azure/oauth/start', headers: bearer(admin2.token), payload: { name: 'oauth-demoted', type: 'azure-client-secrets', tenantId: world.tenantId, ...cloudOf(world) } });
    const back = await followAuthorize(world, started.json().authorizeUrl);
    await env.core.db.updateTable('users').set({ role: 'auditor' }).where('id', '=', admin2.id).execute();
    const res = await callback(back.search);
    expect({ status: res.statusCode, code: res.json().error.code, created: await env.core.azure.repo.find('oauth-demoted') }).toEqual({ status: 403, code: 'FORBIDDEN', created: undefined });
  });

  it('fail/expired state', async () => {
    const started = await start({ name: 'oauth-late', type: 'azure-client-secrets' });
    const back = await followAuthorize(world, started.json().authorizeUrl);
    now += 11 * 60_000;
    const res = await callback(back.search);
    expect({ status: res.statusCode, reason: res.json().error.details.reason }).toEqual({ status: 400, reason: 'state_expired' });
    expect(await env.core.azure.repo.find('oauth-late')).toBeUndefined();
  });

  it('fail/denied consent creates nothing and is audited', async () => {
    const started = await start({ name: 'oauth-denied', type: 'azure-client-secrets', loginHint: 'mallory@contoso.onmicrosoft.com' });
    const back = await followAuthorize(world, started.json().authorizeUrl);
    expect(back.searchParams.get('error')).toBe('access_denied');
    const res = await callback(back.search);
    expect({ status: res.statusCode, reason: res.json().error.details.reason, message: res.json().error.message })
      .toEqual({ status: 400, reason: 'consent_denied', message: 'Azure sign-in ended with access_denied: AADSTS65004: User declined to consent to access the app.' });
    const rows = await env.core.db.selectFrom('audit_log').select(['outcome', 'details']).where('action', '=', 'connection.oauth').execute();
    const audit = rows.filter((r) => (r.details as { name?: string }).name === 'oauth-denied').map((r) => ({ outcome: r.outcome, reason: (r.details as { reason?: string }).reason }));
    expect({ audit, created: await env.core.azure.repo.find('oauth-denied') }).toEqual({ audit: [{ outcome: 'failure', reason: 'consent_denied' }], created: undefined });
  });

  it('fail/only connection managers may start, and the server needs its OAuth app', async () => {
    const operator = await userWithToken(env, 'azure-operator', 'operator');
    const res = await env.app.inject({ method: 'POST', url: '/api/v1/connections/azure/oauth/start', headers: bearer(operator.token), payload: { name: 'x', type: 'azure-key-vault' } });
    expect({ status: res.statusCode, code: res.json().error.code }).toEqual({ status: 403, code: 'FORBIDDEN' });
    const bare = await createTestEnv(engine);
    try {
      const none = await bare.app.inject({ method: 'POST', url: '/api/v1/connections/azure/oauth/start', headers: bearer(bare.adminToken), payload: { name: 'x', type: 'azure-key-vault' } });
      expect({ status: none.statusCode, message: none.json().error.message })
        .toEqual({ status: 501, message: 'OAuth for azure-key-vault connections needs CERTBRIDGE_AZURE_KEY_VAULT_OAUTH_CLIENT_ID and CERTBRIDGE_AZURE_KEY_VAULT_OAUTH_CLIENT_SECRET on the server' });
    } finally {
      await bare.close();
    }
  });
});
