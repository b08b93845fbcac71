import type { TokenCredential } from '@azure/core-auth';
import type { ClientSecretCredentialOptions } from '@azure/identity';
import { identitySdk } from './azure-sdk.ts';
import type { Sealer } from '../../crypto/sealer.ts';
import { AppError, notFound } from '../../errors.ts';
import { azureTransport, knownCloud, resources, vaultUrl, type AzureCloud, type AzureTransport } from './azure-clouds.ts';
import type { AzureConnectionsRepository } from './azure-connections-repository.ts';
import { sealContext, type AzureConnectionRow, type AzureConnectionType, type AzureMethod } from './azure-tables.ts';
import { msalApp, RefreshTokenCredential } from './msal-app.ts';

/** The server's own Azure apps for the OAuth method (CERTBRIDGE_AZURE_*_OAUTH_CLIENT_ID/_SECRET). */
export type OauthApps = Partial<Record<AzureConnectionType, { clientId: string; clientSecret: string }>>;

/** Options for Azure SDK clients (`new CertificateClient(url, credential, clientOptions)`). */
export interface AzureClientOptions {
  additionalPolicies: AzureTransport['policies'];
  /**
   * Key Vault checks that the bearer challenge names a resource on the vault's own domain; an
   * emulator on 127.0.0.1 cannot satisfy that, so the check is off for custom clouds only.
   */
  disableChallengeResourceVerification: boolean;
}

/** What `credentialFor` answers: everything an Azure SDK client needs for one connection. */
export interface AzureConnectionCredential {
  connection: { id: string; name: string; type: AzureConnectionType; method: AzureMethod; tenantId: string; clientId: string; vaultName: string | null };
  credential: TokenCredential;
  cloud: AzureCloud;
  /** Resource identifiers tokens are requested for (`${graph}/.default`). */
  resources: { graph: string; vault: string };
  /** `https://<vault>.vault.azure.net` in the connection's cloud (the emulator's URL for custom ones). */
  vaultUrlFor(vaultName?: string): string;
  clientOptions: AzureClientOptions;
  /** The https.Agent carrying the connection's CA PEM, for plain REST calls (Graph). */
  transport: AzureTransport;
}

export interface AzureCredentials {
  credentialFor(connectionIdOrName: string, expectedType?: AzureConnectionType): Promise<AzureConnectionCredential>;
  /** Drops cached credentials of a connection (after an update, a rotation or a delete). */
  forget(connectionId: string): void;
}

interface Ctx { row: AzureConnectionRow; sealer: Sealer; transport: AzureTransport; oauthApps: OauthApps; repo: AzureConnectionsRepository }

const identityOptions = (row: AzureConnectionRow, transport: AzureTransport): ClientSecretCredentialOptions => ({
  authorityHost: row.authority_host,
  // Instance discovery only knows Microsoft's clouds; a custom authority (emulator) is trusted as given.
  disableInstanceDiscovery: !knownCloud(row.authority_host),
  additionalPolicies: transport.policies,
});

/** A client-secret credential of a connection with a given secret (rotation proves new ones with it). */
export const clientSecretCredential = (row: AzureConnectionRow, secret: string, transport: AzureTransport) =>
  new (identitySdk().ClientSecretCredential)(row.tenant_id, row.client_id, secret, identityOptions(row, transport));

/** One constructor per sign-in method (STYLE: a typed registry instead of a switch). */
const CREDENTIALS = {
  'client-secret': (ctx) => clientSecretCredential(ctx.row, ctx.sealer.openText(ctx.row.secret_sealed!, sealContext.secret(ctx.row.id)), ctx.transport),
  certificate: (ctx) => {
    const key = ctx.sealer.openText(ctx.row.private_key_sealed!, sealContext.privateKey(ctx.row.id));
    return new (identitySdk().ClientCertificateCredential)(ctx.row.tenant_id, ctx.row.client_id, { certificate: `${ctx.row.certificate_pem!.trim()}\n${key.trim()}\n` }, identityOptions(ctx.row, ctx.transport));
  },
  oauth: (ctx) => {
    const app = ctx.oauthApps[ctx.row.type];
    if (!app) throw new AppError('NOT_SUPPORTED', `the server has no Azure OAuth app for ${ctx.row.type} connections (set ${oauthEnvPrefix(ctx.row.type)}_CLIENT_ID and _SECRET)`);
    const { row, sealer, repo } = ctx;
    const accountId = row.oauth_account_id;
    if (!accountId) throw new AppError('CONFLICT', `connection ${row.name} has not completed its OAuth sign-in`);
    const msal = msalApp({
      cloud: { authorityHost: row.authority_host, graphUrl: row.graph_url, vaultUrlTemplate: row.vault_url_template }, tenantId: row.tenant_id, ...app, agent: ctx.transport.agent,
      cache: {
        load: async () => {
          const fresh = await repo.find(row.id);
          return fresh?.oauth_cache_sealed ? sealer.openText(fresh.oauth_cache_sealed, sealContext.oauthCache(row.id)) : null;
        },
        save: (serialized) => repo.saveOauthCache(row.id, sealer.seal(serialized, sealContext.oauthCache(row.id))).then(() => undefined),
      },
    });
    return new RefreshTokenCredential(msal, accountId);
  },
} satisfies Record<AzureMethod, (ctx: Ctx) => TokenCredential>;

export const oauthEnvPrefix = (type: AzureConnectionType) =>
  type === 'azure-client-secrets' ? 'CERTBRIDGE_AZURE_CLIENT_SECRETS_OAUTH' : 'CERTBRIDGE_AZURE_KEY_VAULT_OAUTH';

/**
 * Credentials of Azure connections for Azure SDK clients, e.g. the Key Vault sync:
 *
 * ```ts
 * const { credential, vaultUrlFor, clientOptions } = await core.azure.credentials.credentialFor('kv-prod', 'azure-key-vault');
 * const client = new CertificateClient(vaultUrlFor('my-vault'), credential, clientOptions);
 * ```
 *
 * Contract: resolves by UUID or name; throws AppError NOT_FOUND for an unknown connection and
 * VALIDATION_FAILED when `expectedType` does not match. The credential is cached per connection
 * until `forget(id)` (called on update, rotation and delete), so tokens are reused across calls;
 * secrets are unsealed only inside this process and never leave it. `vaultUrlFor()` without an
 * argument uses the connection's `vaultName`. Client-secret rotation swaps the secret under the
 * same connection: callers should call `credentialFor` per unit of work rather than keep the result.
 */
export function createAzureCredentials(deps: { repo: AzureConnectionsRepository; sealer: Sealer; oauthApps: OauthApps }): AzureCredentials {
  const cache = new Map<string, { stamp: number; value: AzureConnectionCredential }>();

  const build = (row: AzureConnectionRow): AzureConnectionCredential => {
    const transport = azureTransport(row.ca_pem);
    const credential = CREDENTIALS[row.method]({ row, sealer: deps.sealer, transport, oauthApps: deps.oauthApps, repo: deps.repo });
    return {
      connection: { id: row.id, name: row.name, type: row.type, method: row.method, tenantId: row.tenant_id, clientId: row.client_id, vaultName: row.vault_name },
      credential,
      cloud: { authorityHost: row.authority_host, graphUrl: row.graph_url, vaultUrlTemplate: row.vault_url_template },
      resources: resources(row.authority_host),
      vaultUrlFor: (name = row.vault_name ?? undefined) => {
        if (!name) throw new AppError('VALIDATION_FAILED', `connection ${row.name} has no vaultName; name the vault`, { field: 'vault' });
        return vaultUrl(row.vault_url_template, name);
      },
      clientOptions: { additionalPolicies: transport.policies, disableChallengeResourceVerification: !knownCloud(row.authority_host) },
      transport,
    };
  };

  return {
    async credentialFor(idOrName, expectedType) {
      const row = await deps.repo.find(idOrName);
      if (!row) throw notFound('Azure connection', idOrName);
      if (expectedType && row.type !== expectedType) {
        throw new AppError('VALIDATION_FAILED', `connection ${row.name} is of type ${row.type}, not ${expectedType}`, { field: 'connection', type: row.type });
      }
      const stamp = row.updated_at.getTime();
      const hit = cache.get(row.id);
      if (hit && hit.stamp === stamp) return hit.value;
      hit?.value.transport.agent?.destroy();
      const value = build(row);
      cache.set(row.id, { stamp, value });
      return value;
    },
    forget(id) {
      cache.get(id)?.value.transport.agent?.destroy();
      cache.delete(id);
    },
  };
}
