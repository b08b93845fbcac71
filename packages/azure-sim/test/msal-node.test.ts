/**
 * msal-node's confidential client against the emulator, the way a server-side OAuth connection
 * runs it: authority `/organizations`, PKCE, code redemption, then silent refresh for Key Vault.
 */
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfidentialClientApplication, CryptoProvider, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';
import { startAzureSim, type AzureSim } from '../src/index.ts';
import { claimsOf, https } from './helpers.ts';

const REDIRECT = 'https://certbridge.test/api/v1/connections/azure/oauth/callback';
let sim: AzureSim;
let tenantId: string;
let clientId: string;
let clientSecret: string;

/** msal-node's network hook, over node:https trusting the emulator's CA. */
function network(ca: string): INetworkModule {
  const send = <T>(method: string, url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> =>
    new Promise((resolve, reject) => {
      const req = request(url, { method, headers: options?.headers, ca }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)]));
          resolve({ status: res.statusCode ?? 0, headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T });
        });
      });
      req.on('error', reject);
      req.end(options?.body);
    });
  return { sendGetRequestAsync: (url, options) => send('GET', url, options), sendPostRequestAsync: (url, options) => send('POST', url, options) };
}

beforeAll(async () => {
  sim = await startAzureSim();
  const tenant = sim.admin.addTenant({ domain: 'woodgrove.onmicrosoft.com' });
  tenantId = tenant.id;
  const app = sim.admin.addApp(tenant.id, { displayName: 'Certbridge (Key Vault)', redirectUris: [REDIRECT] });
  clientId = app.appId;
  clientSecret = sim.admin.addPassword(app.appId).secret;
  sim.admin.addUser(tenant.id, { userPrincipalName: 'carol@woodgrove.onmicrosoft.com' });
});
afterAll(() => sim.close());

describe('msal-node ConfidentialClientApplication', () => {
  it('ok/auth code URL → authorize → acquireTokenByCode with PKCE → acquireTokenSilent for another resource', async () => {
    const msal = new ConfidentialClientApplication({
      auth: { clientId, clientSecret, authority: `${sim.authorityHost}/organizations`, knownAuthorities: [new URL(sim.authorityHost).host] },
      system: { networkClient: network(sim.caPem) },
    });
    const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
    const scopes = ['https://vault.azure.net/user_impersonation', 'offline_access'];
    const url = await msal.getAuthCodeUrl({ scopes, redirectUri: REDIRECT, state: 'xyz', codeChallenge: challenge, codeChallengeMethod: 'S256', loginHint: 'carol@woodgrove.onmicrosoft.com' });
    const back = new URL(String((await https(url, sim.caPem)).headers.location));
    expect(back.searchParams.get('state')).toBe('xyz');
    const result = await msal.acquireTokenByCode({ code: back.searchParams.get('code') ?? '', redirectUri: REDIRECT, scopes, codeVerifier: verifier });
    expect([claimsOf(result.accessToken).aud, claimsOf(result.accessToken).tid, result.account?.username]).toEqual(['https://vault.azure.net', tenantId, 'carol@woodgrove.onmicrosoft.com']);
    sim.admin.clearCalls();
    const graph = await msal.acquireTokenSilent({ account: result.account!, scopes: ['https://graph.microsoft.com/User.Read'] });
    expect(claimsOf(graph.accessToken).aud).toBe('https://graph.microsoft.com');
    expect(sim.admin.calls('entra').filter((c) => c.path.endsWith('/oauth2/v2.0/token')).map((c) => c.status)).toEqual([200]);
  });

  it('fail/a wrong code_verifier surfaces AADSTS501481 as invalid_grant', async () => {
    const msal = new ConfidentialClientApplication({
      auth: { clientId, clientSecret, authority: `${sim.authorityHost}/${tenantId}`, knownAuthorities: [new URL(sim.authorityHost).host] },
      system: { networkClient: network(sim.caPem) },
    });
    const crypto = new CryptoProvider();
    const { challenge } = await crypto.generatePkceCodes();
    const url = await msal.getAuthCodeUrl({ scopes: ['User.Read'], redirectUri: REDIRECT, codeChallenge: challenge, codeChallengeMethod: 'S256' });
    const code = new URL(String((await https(url, sim.caPem)).headers.location)).searchParams.get('code') ?? '';
    const wrong = (await crypto.generatePkceCodes()).verifier;
    await expect(msal.acquireTokenByCode({ code, redirectUri: REDIRECT, scopes: ['User.Read'], codeVerifier: wrong })).rejects.toMatchObject({ errorCode: 'invalid_grant', errorMessage: expect.stringMatching(/^Error\(s\): 501481 - .* Description: AADSTS501481: The Code_Verifier does not match/) });
  });
});
