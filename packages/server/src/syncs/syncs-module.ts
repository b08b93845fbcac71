import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import type { AzureCredentials } from '../connections/azure/azure-credentials.ts';
import type { Sealer } from '../crypto/sealer.ts';
import type { CertificateRow, Database } from '../db/schema.ts';
import type { CatalogRepository } from '../repositories/catalog-repository.ts';
import { createAzureVaultClient } from './key-vault.ts';
import { createSyncReconciler, SyncRunError, type VaultOpener } from './sync-reconciler.ts';
import { createSyncService, type VaultDirectory } from './sync-service.ts';
import { createSyncStore } from './sync-store.ts';
import type { CatalogCache } from '../repositories/catalog-cache.ts';

export type SyncJob = { kind: 'sync'; syncId: string } | { kind: 'certificate'; certificateId: string };

/** Where background sync work goes (pg-boss in the server; see syncs-jobs.ts). */
export interface SyncQueue {
  send(job: SyncJob): Promise<void>;
}

/** The SDK's own Retry-After retries per call (429/503); what is left over is retried by the job. */
const VAULT_RETRY = { maxRetries: 4, retryDelayInMs: 1000, maxRetryDelayInMs: 30_000 };

/** Certificate events the issuance and certificate services report after their transaction commits. */
export interface SyncHooks {
  /**
   * `catalogVersion`: the catalogue counter the issuing request read after it began
   * (IssueContext.catalogVersion); the covering-sync lookup uses it instead of reading the
   * counter again, so it honours every sync change committed before the request. A change
   * committed while the request ran may be missed here; the periodic reconcile covers it.
   */
  certificateIssued(certificate: Pick<CertificateRow, 'id' | 'application_id' | 'profile_id'>, catalogVersion?: string): Promise<void>;
  certificateRevoked(certificate: Pick<CertificateRow, 'id' | 'application_id' | 'profile_id'>): Promise<void>;
}

/**
 * Azure Key Vault certificate sync (issue 8): the service behind `/api/v1/syncs`, the reconciler
 * the jobs run, and the hooks that turn issuance, renewal and revocation into queued work.
 * `openVault` replaces the Azure credential path in tests (an in-memory vault).
 */
export function createSyncsModule(deps: {
  db: Kysely<Database>; sealer: Sealer; clock: Clock; catalog: CatalogRepository; catalogCache?: CatalogCache;
  credentials: Pick<AzureCredentials, 'credentialFor'>; openVault?: VaultOpener;
}) {
  const store = createSyncStore(deps.db, deps.catalogCache);
  let queue: SyncQueue | null = null;
  let onHookError: (err: unknown, job: SyncJob) => void = () => undefined;

  const vaults: VaultDirectory = async (connection, vault) => {
    const azure = await deps.credentials.credentialFor(connection, 'azure-key-vault');
    if (vault.url) return { connectionId: azure.connection.id, vaultUrl: vault.url.replace(/\/+$/, '') };
    return { connectionId: azure.connection.id, vaultUrl: azure.vaultUrlFor(vault.name) };
  };
  const openVault: VaultOpener = deps.openVault ?? (async (sync) => {
    const azure = await deps.credentials.credentialFor(sync.connection_id, 'azure-key-vault');
    return createAzureVaultClient(sync.vault_url, azure.credential, { ...azure.clientOptions, retryOptions: VAULT_RETRY });
  });
  const reconciler = createSyncReconciler({ db: deps.db, store, sealer: deps.sealer, clock: deps.clock, openVault });

  /** Without a queue (CLI, a server whose jobs are not started) the periodic reconcile catches up. */
  const enqueue = async (job: SyncJob) => void (await queue?.send(job));
  const service = createSyncService({ db: deps.db, store, catalog: deps.catalog, vaults, enqueue, clock: deps.clock });

  // A hook runs after the certificate is committed: its failure must not fail the request.
  const notify = async (certificate: Pick<CertificateRow, 'id' | 'application_id' | 'profile_id'>, catalogVersion?: string) => {
    const job: SyncJob = { kind: 'certificate', certificateId: certificate.id };
    try {
      if (queue && (await store.covering(certificate.application_id, certificate.profile_id, catalogVersion)).length) await queue.send(job);
    } catch (err) {
      onHookError(err, job);
    }
  };
  const hooks: SyncHooks = { certificateIssued: notify, certificateRevoked: (certificate) => notify(certificate) };

  return {
    service, reconciler, store, hooks,
    /** Routes background work to `q`; `onError` hears about hook failures (the reconcile repairs them). */
    useQueue(q: SyncQueue | null, onError?: (err: unknown, job: SyncJob) => void): void {
      queue = q;
      if (onError) onHookError = onError;
    },
    /** Runs one queued job (the pg-boss workers call this). */
    async handle(job: SyncJob): Promise<void> {
      if (job.kind === 'sync') await reconciler.runSync(job.syncId);
      else await reconciler.runCertificate(job.certificateId);
    },
    /** The periodic repair: every enabled sync; a sync's failure is recorded on it and does not stop the others. */
    async reconcileAll(): Promise<{ syncs: number; failed: number }> {
      let failed = 0;
      const all = await store.listEnabled();
      for (const sync of all) {
        try {
          await reconciler.runSync(sync.id);
        } catch (err) {
          if (!(err instanceof SyncRunError)) throw err;
          failed++;
        }
      }
      return { syncs: all.length, failed };
    },
  };
}

export type SyncsModule = ReturnType<typeof createSyncsModule>;
