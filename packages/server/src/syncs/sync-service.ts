import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { appendAudit } from '../audit/audit-log.ts';
import type { Principal } from '../auth/principal.ts';
import { requirePermission } from '../auth/rbac.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/schema.ts';
import { AppError, conflict, notFound } from '../errors.ts';
import type { CatalogRepository } from '../repositories/catalog-repository.ts';
import type { SyncStore } from './sync-store.ts';
import type { OnRevocation, SyncRow } from './sync-tables.ts';

export interface SyncInput {
  name: string;
  /** An `azure-key-vault` connection, by id or name. */
  connection: string;
  /** The vault by name (URL from the connection's cloud) or by URL; neither: the connection's vault. */
  vaultName?: string | undefined;
  vaultUrl?: string | undefined;
  applications?: string[] | undefined;
  profiles?: string[] | undefined;
  onRevocation?: OnRevocation | undefined;
  enabled?: boolean | undefined;
}

/** Resolves a connection and vault to what a sync stores; throws AppError for a wrong one. */
export type VaultDirectory = (connection: string, vault: { name?: string | undefined; url?: string | undefined }) => Promise<{ connectionId: string; vaultUrl: string }>;

/** Work handed to the background (pg-boss): the request path never waits on Azure. */
export type Enqueue = (job: { kind: 'sync'; syncId: string }) => Promise<void>;

/** `/api/v1/syncs`: CRUD with RBAC and audit; runs are enqueued, never done in the request. */
export function createSyncService(deps: { db: Kysely<Database>; store: SyncStore; catalog: CatalogRepository; vaults: VaultDirectory; enqueue: Enqueue; clock: Clock }) {
  const { db, store, clock } = deps;

  async function require(idOrName: string): Promise<SyncRow> {
    const row = await store.find(idOrName);
    if (!row) throw notFound('sync', idOrName);
    return row;
  }

  async function resolveIds(kind: 'application' | 'profile', refs: string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const ref of refs) {
      const row = kind === 'application' ? await deps.catalog.findApplication(ref) : await deps.catalog.findProfile(ref);
      if (!row) throw new AppError('VALIDATION_FAILED', `${kind} ${JSON.stringify(ref)} does not exist`, { field: `${kind}s`, value: ref });
      if (!ids.includes(row.id)) ids.push(row.id);
    }
    return ids;
  }

  const audited = (actor: Principal, action: string, fn: (trx: Kysely<Database>) => Promise<SyncRow>, details: Record<string, unknown> = {}) =>
    db.transaction().execute(async (trx) => {
      const row = await fn(trx);
      await appendAudit(trx, { actor, action, resourceType: 'sync', resourceId: row.id, outcome: 'success', details: { name: row.name, ...details } }, clock);
      return row;
    });

  return {
    require,
    list: (actor: Principal) => (requirePermission(actor, 'syncs:read'), store.list()),
    get: (actor: Principal, id: string) => (requirePermission(actor, 'syncs:read'), require(id)),

    async create(actor: Principal, input: SyncInput): Promise<SyncRow> {
      requirePermission(actor, 'syncs:manage');
      if (await store.find(input.name)) throw conflict(`a sync named ${input.name} already exists`);
      const { connectionId, vaultUrl } = await deps.vaults(input.connection, { name: input.vaultName, url: input.vaultUrl });
      const applicationIds = await resolveIds('application', input.applications ?? []);
      const profileIds = await resolveIds('profile', input.profiles ?? []);
      if (!applicationIds.length && !profileIds.length) throw new AppError('VALIDATION_FAILED', 'a sync needs at least one application or profile whose certificates it sends', { field: 'applications' });
      const row = await audited(actor, 'sync.create', (trx) => store.insert(trx, {
        id: randomUUID(), name: input.name, connection_id: connectionId, vault_url: vaultUrl, application_ids: JSON.stringify(applicationIds),
        profile_ids: JSON.stringify(profileIds), on_revocation: input.onRevocation ?? 'disable', enabled: input.enabled ?? true,
      }), { connectionId, vaultUrl, applicationIds, profileIds, onRevocation: input.onRevocation ?? 'disable' });
      // The initial full sync.
      if (row.enabled) await deps.enqueue({ kind: 'sync', syncId: row.id });
      return row;
    },

    async update(actor: Principal, idOrName: string, input: Partial<Omit<SyncInput, 'name'>>): Promise<SyncRow> {
      requirePermission(actor, 'syncs:manage');
      const existing = await require(idOrName);
      const vault = input.connection !== undefined || input.vaultName !== undefined || input.vaultUrl !== undefined
        ? await deps.vaults(input.connection ?? existing.connection_id, { name: input.vaultName, url: input.vaultUrl ?? (input.vaultName ? undefined : existing.vault_url) })
        : undefined;
      const applicationIds = input.applications ? await resolveIds('application', input.applications) : existing.application_ids;
      const profileIds = input.profiles ? await resolveIds('profile', input.profiles) : existing.profile_ids;
      if (!applicationIds.length && !profileIds.length) throw new AppError('VALIDATION_FAILED', 'a sync needs at least one application or profile whose certificates it sends', { field: 'applications' });
      const row = await audited(actor, 'sync.update', (trx) => store.update(trx, existing.id, {
        ...(vault ? { connection_id: vault.connectionId, vault_url: vault.vaultUrl } : {}),
        application_ids: JSON.stringify(applicationIds), profile_ids: JSON.stringify(profileIds),
        ...(input.onRevocation !== undefined ? { on_revocation: input.onRevocation } : {}),
        ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
      }), { fields: Object.keys(input) });
      if (row.enabled) await deps.enqueue({ kind: 'sync', syncId: row.id });
      return row;
    },

    /** Removes the sync; what it put in the vault stays there (the vault is the consumers' now). */
    async remove(actor: Principal, idOrName: string): Promise<void> {
      requirePermission(actor, 'syncs:manage');
      const existing = await require(idOrName);
      await audited(actor, 'sync.delete', async (trx) => (await store.remove(trx, existing.id), existing));
    },

    async run(actor: Principal, idOrName: string): Promise<SyncRow> {
      requirePermission(actor, 'syncs:manage');
      const row = await require(idOrName);
      if (!row.enabled) throw conflict(`sync ${row.name} is disabled; enable it first`);
      await deps.enqueue({ kind: 'sync', syncId: row.id });
      return row;
    },

    async certificates(actor: Principal, idOrName: string) {
      requirePermission(actor, 'syncs:read');
      const row = await require(idOrName);
      return { sync: row, items: await store.itemsWithCertificates(row) };
    },
  };
}

export type SyncService = ReturnType<typeof createSyncService>;
