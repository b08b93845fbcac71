/**
 * The admin API's Key Vault part: create vaults (each on its own origin), grant access
 * policies, and read a vault's certificates as tests need to assert on them.
 */
import { X509Certificate } from 'node:crypto';
import { DirectoryAdmin } from './admin.ts';
import { hasAutoRenew, type Policy } from './keyvault/policy.ts';
import { CERTIFICATE_PERMISSIONS, type CertificatePermission, type Vault } from './keyvault/store.ts';

export interface VaultCertificateView {
  name: string;
  deleted: boolean;
  /** The policy as stored (snake_case JSON, as Key Vault returns it). */
  policy: Policy;
  /** Whether any lifetime action of the policy is `AutoRenew`. */
  autoRenew: boolean;
  /** Oldest first. */
  versions: { version: string; enabled: boolean; tags: Record<string, string>; x5t: string; serialNumber: string; cerPem: string; chainLength: number; created: Date }[];
}

export interface VaultView {
  name: string;
  tenantId: string;
  url: string;
  certificates(): VaultCertificateView[];
  certificate(name: string): VaultCertificateView | undefined;
}

export interface VaultHost {
  vaults: Map<string, Vault>;
  /** Creates the vault and starts its origin; resolves to its URL. */
  createVault(name: string, tenantId: string, port?: number): Promise<string>;
}

function view(v: Vault, name: string): VaultCertificateView | undefined {
  const e = v.certificates.get(name.toLowerCase());
  if (!e) return undefined;
  return {
    name: e.name,
    deleted: e.deleted !== undefined,
    policy: structuredClone(e.policy),
    autoRenew: hasAutoRenew(e.policy),
    versions: e.versions.map((x) => ({
      version: x.version, enabled: x.enabled, tags: { ...x.tags }, x5t: x.x5t, serialNumber: new X509Certificate(x.certDer).serialNumber,
      cerPem: `-----BEGIN CERTIFICATE-----\n${x.certDer.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`,
      chainLength: x.chainDer.length, created: new Date(x.created * 1000),
    })),
  };
}

export class AzureSimAdmin extends DirectoryAdmin {
  private host?: VaultHost;

  /** Wired by startAzureSim once the vault host exists. */
  attachVaults(host: VaultHost): void {
    this.host = host;
  }

  private vaultHost(): VaultHost {
    if (!this.host) throw new Error('vaults are not available');
    return this.host;
  }

  /** Creates a vault (names: 3–24 characters, letters, digits and dashes) on its own origin (`port`, default random) and resolves to its URL. */
  async addVault(name: string, opts: { tenantId: string; port?: number }): Promise<string> {
    if (!/^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/.test(name)) throw new Error(`invalid vault name ${name}`);
    if (this.vaultHost().vaults.has(name.toLowerCase())) throw new Error(`vault ${name} exists`);
    return this.vaultHost().createVault(name, opts.tenantId, opts.port);
  }

  /** Access policy for an appId or object id; all certificate permissions unless listed. */
  grantVaultAccess(vaultName: string, principal: string, permissions: CertificatePermission[] = [...CERTIFICATE_PERMISSIONS]): void {
    for (const p of permissions) if (!CERTIFICATE_PERMISSIONS.includes(p)) throw new Error(`unknown permission ${p}`);
    this.mustVault(vaultName).accessPolicies.set(principal.toLowerCase(), new Set(permissions));
  }

  revokeVaultAccess(vaultName: string, principal: string): void {
    this.mustVault(vaultName).accessPolicies.delete(principal.toLowerCase());
  }

  vault(name: string): VaultView {
    const v = this.mustVault(name);
    return {
      name: v.name,
      tenantId: v.tenantId,
      url: v.url,
      certificates: () => [...v.certificates.values()].map((e) => view(v, e.name) as VaultCertificateView),
      certificate: (cert: string) => view(v, cert),
    };
  }

  private mustVault(name: string): Vault {
    const v = this.vaultHost().vaults.get(name.toLowerCase());
    if (!v) throw new Error(`unknown vault ${name}`);
    return v;
  }
}
