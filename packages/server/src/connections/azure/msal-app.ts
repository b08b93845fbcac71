import type https from 'node:https';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import type { ConfidentialClientApplication, ICachePlugin, INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { msalSdk } from './azure-sdk.ts';
import type { AzureCloud } from './azure-clouds.ts';
import { httpsJson } from './https-json.ts';

/**
 * msal-node's network module over node:https, so a connection's CA PEM (custom authority hosts,
 * the emulator) is honoured: msal-node's own client uses fetch, which takes no per-request CA.
 */
export function httpsNetworkModule(agent: https.Agent | undefined): INetworkModule {
  const send = async <T>(method: 'GET' | 'POST', url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> => {
    const res = await httpsJson(method, url, { agent, ...(options?.headers ? { headers: options.headers } : {}), ...(options?.body !== undefined ? { body: options.body } : {}) });
    // msal-node reads error fields from the body of 4xx answers too, so every answer is passed on.
    return { headers: res.headers, body: (res.body ?? {}) as T, status: res.status };
  };
  return { sendGetRequestAsync: (url, options) => send('GET', url, options), sendPostRequestAsync: (url, options) => send('POST', url, options) };
}

/** Where msal-node's serialized cache (with the refresh token) is loaded from and saved to. */
export interface CacheStore {
  load(): Promise<string | null>;
  save(serialized: string): Promise<void>;
}

export function cachePlugin(store: CacheStore): ICachePlugin {
  return {
    beforeCacheAccess: async (ctx) => {
      const data = await store.load();
      if (data) ctx.tokenCache.deserialize(data);
    },
    afterCacheAccess: async (ctx) => {
      if (ctx.cacheHasChanged) await store.save(ctx.tokenCache.serialize());
    },
  };
}

/** The server's own Azure app (CERTBRIDGE_AZURE_*_OAUTH_CLIENT_ID/_SECRET) in one tenant of one cloud. */
export function msalApp(opts: { cloud: AzureCloud; tenantId: string; clientId: string; clientSecret: string; agent: https.Agent | undefined; cache?: CacheStore }) {
  const host = new URL(opts.cloud.authorityHost).host;
  return new (msalSdk().ConfidentialClientApplication)({
    auth: {
      clientId: opts.clientId,
      clientSecret: opts.clientSecret,
      authority: `${opts.cloud.authorityHost}/${opts.tenantId}`,
      // Listing the host skips instance discovery, which only knows Microsoft's own clouds.
      knownAuthorities: [host],
    },
    ...(opts.cache ? { cache: { cachePlugin: cachePlugin(opts.cache) } } : {}),
    system: { networkClient: httpsNetworkModule(opts.agent) },
  });
}

/**
 * A TokenCredential over a persisted OAuth grant: msal-node answers from its cache and, once the
 * access token has expired, redeems the sealed refresh token (the new one is saved back).
 * Tokens are also kept per requested scope string: msal-node caches them under the scopes Entra
 * granted, which never equal a `<resource>/.default` request, so it would refresh on every call.
 */
export class RefreshTokenCredential implements TokenCredential {
  private readonly tokens = new Map<string, AccessToken>();

  constructor(private readonly app: ConfidentialClientApplication, private readonly homeAccountId: string) {}

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    const list = Array.isArray(scopes) ? scopes : [scopes];
    const key = list.join(' ');
    const held = this.tokens.get(key);
    if (held && !options?.claims && held.expiresOnTimestamp - Date.now() > 5 * 60_000) return held;
    const account = await this.app.getTokenCache().getAccountByHomeId(this.homeAccountId);
    if (!account) throw new Error('the OAuth grant of this connection is gone from its token cache: connect again');
    const result = await this.app.acquireTokenSilent({ account, scopes: list, ...(options?.claims ? { claims: options.claims } : {}) });
    if (!result.expiresOn) throw new Error('the token endpoint answered without an expiry');
    const token: AccessToken = { token: result.accessToken, expiresOnTimestamp: result.expiresOn.getTime(), tokenType: 'Bearer' };
    this.tokens.set(key, token);
    return token;
  }
}
