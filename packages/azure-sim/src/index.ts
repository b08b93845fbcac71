/**
 * @certbridge/azure-sim: Microsoft Entra ID (v2.0 token and authorize endpoints), Microsoft
 * Graph v1.0 applications and Azure Key Vault certificates, emulated over HTTPS for tests and
 * development. `startAzureSim()` serves each service on its own 127.0.0.1 origin with a
 * throwaway CA; README.md documents the API.
 */
import { Directory, type Clock } from './directory.ts';
import { AzureSimAdmin } from './admin-vaults.ts';
import { createAdminHttp } from './admin-http.ts';
import { FaultInjector } from './faults.ts';
import { startOrigin, type Origin } from './server.ts';
import { createTlsMaterial } from './tls.ts';
import { TokenService } from './tokens.ts';
import { Grants } from './entra/grants.ts';
import { createEntraService } from './entra/service.ts';
import { createGraphService } from './graph/service.ts';
import { createVaultService } from './keyvault/service.ts';
import { Vault } from './keyvault/store.ts';

export type { FaultSpec, CallRecord, Service } from './faults.ts';
export type { TenantInfo, AppInfo, AppView, PasswordInfo, KeyCredentialInfo, UserInfo, AddAppOptions } from './admin.ts';
export type { AzureSimAdmin, VaultView, VaultCertificateView } from './admin-vaults.ts';
export type { CertificatePermission } from './keyvault/store.ts';
export { GRAPH_RESOURCE, VAULT_RESOURCE } from './tokens.ts';

export interface AzureSimOptions {
  /** Listen address. Default `127.0.0.1`. */
  host?: string;
  /** Port of the Entra (authority) origin; 0 or absent picks a free one. */
  port?: number;
  /** Port of the Graph origin; 0 or absent picks a free one. */
  graphPort?: number;
  /** Base clock; the admin API's `advanceTime` adds to it. Default `Date.now`. */
  now?: () => number;
  /** Lifetime of issued access tokens. Default 3599 s, as Entra's default. */
  tokenLifetimeSeconds?: number;
  /** When set, the Entra origin also serves the admin API under `/sim/` for this bearer token. */
  adminToken?: string;
}

export interface AzureSim {
  /** The Entra origin, `https://127.0.0.1:<port>`. */
  url: string;
  /** PEM of the emulator's root CA: trust it for every origin. */
  caPem: string;
  /** What @azure/identity calls `authorityHost` (same as `url`). */
  authorityHost: string;
  /** The Microsoft Graph origin; requests go to `${graphUrl}/v1.0/…`. */
  graphUrl: string;
  /** The origin of a vault made with `admin.addVault`; throws for unknown names. */
  vaultUrl(name: string): string;
  admin: AzureSimAdmin;
  close(): Promise<void>;
}

export async function startAzureSim(options: AzureSimOptions = {}): Promise<AzureSim> {
  const host = options.host ?? '127.0.0.1';
  const base = options.now ?? Date.now;
  const offset = { ms: 0 };
  const clock: Clock = { now: () => base() + offset.ms };
  const dir = new Directory(clock);
  const tokens = new TokenService(clock);
  const faults = new FaultInjector();
  const tls = createTlsMaterial(['localhost']);
  let authorityHost = '';
  const origins: Origin[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(origins.splice(0).map((o) => o.close()));
  };
  try {
    const entra = createEntraService({
      dir, tokens, grants: new Grants(clock), authorityHost: () => authorityHost, tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3599,
    });
    const vaults = new Map<string, Vault>();
    const admin = new AzureSimAdmin(dir, tokens, faults, offset);
    const adminHttp = options.adminToken ? createAdminHttp(options.adminToken, admin) : undefined;
    const login = await startOrigin(entra, faults, tls, host, options.port ?? 0, adminHttp);
    origins.push(login);
    authorityHost = login.url;
    const graph = await startOrigin(createGraphService(dir, tokens), faults, tls, host, options.graphPort ?? 0);
    origins.push(graph);
    admin.attachVaults({
      vaults,
      async createVault(name, tenantId, port) {
        if (!dir.tenants.has(tenantId)) throw new Error(`unknown tenant ${tenantId}`);
        const vault = new Vault(name, tenantId, clock);
        const origin = await startOrigin(createVaultService({ dir, tokens, authorityHost: () => authorityHost }, vault), faults, tls, host, port ?? 0);
        origins.push(origin);
        vault.url = origin.url;
        vaults.set(name.toLowerCase(), vault);
        return origin.url;
      },
    });
    return {
      url: login.url,
      caPem: tls.caPem,
      authorityHost,
      graphUrl: graph.url,
      vaultUrl(name) {
        const v = vaults.get(name.toLowerCase());
        if (!v) throw new Error(`unknown vault ${name}`);
        return v.url;
      },
      admin,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
