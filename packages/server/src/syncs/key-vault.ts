import type { TokenCredential } from '@azure/core-auth';
import type { CertificateClientOptions, ImportCertificateOptions, KeyVaultCertificate } from '@azure/keyvault-certificates';
import { keyVaultCertificatesSdk, restPipelineSdk } from '../connections/azure/azure-sdk.ts';

/** One version of a Key Vault certificate, as far as a sync cares. */
export interface VaultCertificate {
  name: string;
  version: string;
  enabled: boolean;
  tags: Record<string, string>;
}

/**
 * The narrow part of Key Vault a sync uses (Key Vault certificates REST, api-version 7.x /
 * 2025-07-01). Every method throws `VaultError` for an answer other than success.
 */
export interface VaultClient {
  /** The current (newest) version, or undefined when the name does not exist (or is deleted). */
  latest(name: string): Promise<VaultCertificate | undefined>;
  /** Import Certificate: a new version of `name` from a password-protected PFX. */
  importPfx(name: string, pfx: Uint8Array, password: string, tags: Record<string, string>): Promise<VaultCertificate>;
  /** Update Certificate (attributes.enabled) of one version. */
  setEnabled(name: string, version: string, enabled: boolean): Promise<void>;
  /** Delete Certificate (soft delete on vaults that have it: the name stays reserved until purged). */
  remove(name: string): Promise<void>;
  /** Recover Deleted Certificate; false when there is no deleted certificate of that name. */
  recover(name: string): Promise<boolean>;
}

/** A Key Vault answer other than success: HTTP status, Key Vault error code, its message. */
export class VaultError extends Error {
  constructor(message: string, readonly status: number | undefined, readonly code: string | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VaultError';
  }

  /** Throttling and unavailability left after the SDK's own Retry-After retries: try again later. */
  get retryable(): boolean {
    return this.status === undefined || this.status === 429 || this.status >= 500;
  }
}

/** What each refusal means for an operator (the permission names are Key Vault's own). */
function explain(status: number | undefined, code: string | undefined, message: string): string {
  if (status === 401) return `Key Vault did not accept the connection's token: ${message}`;
  if (status === 403) return `Key Vault refused (${code ?? 'Forbidden'}): the connection's identity needs the certificates get, import, update, delete and recover permissions (or the Key Vault Certificates Officer role): ${message}`;
  if (status === undefined) return `Key Vault could not be reached: ${message}`;
  if (status === 429) return `Key Vault is throttling requests (429) and the retries honouring Retry-After ran out: ${message}`;
  return `Key Vault answered ${status}${code ? ` (${code})` : ''}: ${message}`;
}

export function toVaultError(err: unknown): VaultError {
  if (err instanceof VaultError) return err;
  if (restPipelineSdk().isRestError(err)) {
    const body = err.details as { error?: { code?: string; message?: string } } | undefined;
    const code = body?.error?.code ?? err.code;
    return new VaultError(explain(err.statusCode, code, body?.error?.message ?? err.message), err.statusCode, code, { cause: err });
  }
  return new VaultError(`Key Vault could not be reached: ${err instanceof Error ? err.message : String(err)}`, undefined, undefined, { cause: err });
}

const isNotFound = (err: unknown): boolean => restPipelineSdk().isRestError(err) && err.statusCode === 404;

/**
 * The import policy, in the shape of the service's CertificatePolicy. Issuer "Unknown" (not a
 * Key Vault-integrated CA) and a single EmailContacts lifetime action: Key Vault accepts one
 * lifetime action per policy, EmailContacts only notifies the vault's contacts and never creates
 * versions, while AutoRenew would have Key Vault try to renew the certificate on its own. It is
 * also what Key Vault fills in for imported certificates, so setting it explicitly keeps a
 * vault whose defaults were changed from renewing behind Certbridge's back. Key properties are
 * left out: Key Vault reads them from the imported key.
 */
export const IMPORT_POLICY = {
  issuerParameters: { name: 'Unknown' },
  secretProperties: { contentType: 'application/x-pkcs12' },
  lifetimeActions: [{ trigger: { lifetimePercentage: 80 }, action: { actionType: 'EmailContacts' } }],
};

/**
 * @azure/keyvault-certificates 4.10 drops the public `policy` and `enabled` import options on the
 * way to the wire (its request serializer reads `certificatePolicy` / `certificateAttributes`,
 * which it spreads in from the options): the policy is therefore passed in the service's shape.
 */
interface ImportWithPolicy extends ImportCertificateOptions {
  certificatePolicy: typeof IMPORT_POLICY;
  certificateAttributes: { enabled: boolean };
}

const summary = (c: KeyVaultCertificate): VaultCertificate => ({
  name: c.name, version: c.properties.version ?? '', enabled: c.properties.enabled ?? true, tags: c.properties.tags ?? {},
});

/** A `VaultClient` over the official SDK's CertificateClient. */
export function createAzureVaultClient(vaultUrl: string, credential: TokenCredential, options: CertificateClientOptions = {}): VaultClient {
  const client = new (keyVaultCertificatesSdk().CertificateClient)(vaultUrl, credential, options);
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw toVaultError(err);
    }
  };
  return {
    latest: (name) => call(async () => {
      try {
        return summary(await client.getCertificate(name));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    }),
    importPfx: (name, pfx, password, tags) => call(async () => {
      const options: ImportWithPolicy = { password, tags, certificatePolicy: IMPORT_POLICY, certificateAttributes: { enabled: true } };
      return summary(await client.importCertificate(name, pfx, options));
    }),
    setEnabled: (name, version, enabled) => call(async () => void (await client.updateCertificateProperties(name, version, { enabled }))),
    remove: (name) => call(async () => {
      try {
        await client.beginDeleteCertificate(name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }),
    recover: (name) => call(async () => {
      try {
        const poller = await client.beginRecoverDeletedCertificate(name, { intervalInMs: 250 });
        await poller.pollUntilDone();
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    }),
  };
}
