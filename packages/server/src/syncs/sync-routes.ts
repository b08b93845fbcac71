import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { route } from '../http/route-table.ts';
import type { SyncService } from './sync-service.ts';
import type { SyncRow } from './sync-tables.ts';
import type { SyncStore } from './sync-store.ts';

export const syncDto = (s: SyncRow) => ({
  id: s.id, name: s.name, type: s.type, connectionId: s.connection_id, vaultUrl: s.vault_url, applicationIds: s.application_ids,
  profileIds: s.profile_ids, onRevocation: s.on_revocation, enabled: s.enabled, lastRunAt: s.last_run_at, lastRunError: s.last_run_error,
  createdAt: s.created_at, updatedAt: s.updated_at,
});

type ItemRow = Awaited<ReturnType<SyncStore['itemsWithCertificates']>>[number];
const itemDto = (i: ItemRow) => ({
  certificateId: i.certificate_id, serial: i.serial_hex, subject: i.subject, certificateStatus: i.certificate_status, notAfter: i.not_after,
  // No status row yet: in scope, waiting for its first run.
  state: i.state ?? 'pending', reason: i.reason, vaultName: i.vault_name, vaultVersion: i.vault_version, lastSyncedAt: i.last_synced_at,
  lastError: i.last_error, attempts: i.attempts ?? 0, updatedAt: i.updated_at,
});

/** Azure Key Vault names: 3 to 24 characters, letters, digits and hyphens, starting with a letter. */
const vaultName = z.string().regex(/^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$/, 'a Key Vault name has 3 to 24 letters, digits and hyphens and starts with a letter');
const vaultUrl = z.string().url().max(2000).refine((u) => u.startsWith('https://'), 'must be an https:// URL');
const refs = z.array(z.string().min(1).max(200)).max(100);
const onRevocation = z.enum(['disable', 'delete']);
const oneVault = (v: { vaultName?: string | undefined; vaultUrl?: string | undefined }) => !(v.vaultName && v.vaultUrl);
const ONE_VAULT = { message: 'name the vault by vaultName or by vaultUrl, not both', path: ['vaultUrl'] };

/** `/api/v1/syncs`: Azure Key Vault certificate syncs (SPEC "Resources"). */
export function registerSyncRoutes(app: FastifyInstance, deps: { syncs: SyncService }): void {
  const { syncs } = deps;
  route(app, { method: 'GET', url: '/api/v1/syncs', summary: 'List Key Vault syncs', tag: 'syncs' }, async ({ principal }) =>
    ({ items: (await syncs.list(principal)).map(syncDto) }));
  route(app, { method: 'GET', url: '/api/v1/syncs/:id', summary: 'A sync by id or name', tag: 'syncs' }, async ({ principal, params }) =>
    syncDto(await syncs.get(principal, params['id']!)));
  route(app, {
    method: 'POST', url: '/api/v1/syncs', tag: 'syncs', responses: { 201: 'Created; the initial full sync is queued' },
    summary: 'Create a sync: certificates of applications/profiles whose key Certbridge holds go to an Azure Key Vault (azure-key-vault connection)',
    body: z.object({
      name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/), type: z.literal('azure-key-vault').default('azure-key-vault'),
      connection: z.string().min(1).max(200), vaultName: vaultName.optional(), vaultUrl: vaultUrl.optional(),
      applications: refs.optional(), profiles: refs.optional(), onRevocation: onRevocation.optional(), enabled: z.boolean().optional(),
    }).strict().refine(oneVault, ONE_VAULT),
  }, async ({ principal, body, reply }) => reply.status(201).send(syncDto(await syncs.create(principal, body))));
  route(app, {
    method: 'PATCH', url: '/api/v1/syncs/:id', summary: 'Change a sync (a full sync is queued when it is enabled)', tag: 'syncs',
    body: z.object({
      connection: z.string().min(1).max(200).optional(), vaultName: vaultName.optional(), vaultUrl: vaultUrl.optional(),
      applications: refs.optional(), profiles: refs.optional(), onRevocation: onRevocation.optional(), enabled: z.boolean().optional(),
    }).strict().refine(oneVault, ONE_VAULT),
  }, async ({ principal, params, body }) => syncDto(await syncs.update(principal, params['id']!, body)));
  route(app, { method: 'DELETE', url: '/api/v1/syncs/:id', summary: 'Delete a sync (what it put in the vault stays)', tag: 'syncs', responses: { 204: 'Deleted' } }, async ({ principal, params, reply }) => {
    await syncs.remove(principal, params['id']!);
    return reply.status(204).send();
  });
  route(app, { method: 'POST', url: '/api/v1/syncs/:id/run', summary: 'Reconcile now (queued; follow it in /certificates and lastRunAt)', tag: 'syncs', responses: { 202: 'Queued' } }, async ({ principal, params, reply }) =>
    reply.status(202).send({ queued: true, sync: syncDto(await syncs.run(principal, params['id']!)) }));
  route(app, {
    method: 'GET', url: '/api/v1/syncs/:id/certificates', tag: 'syncs',
    summary: 'Per-certificate status: state (synced, disabled, deleted, failed, skipped, pending), Key Vault name and version, last synced at, last error, skip reason',
  }, async ({ principal, params }) => {
    const { sync, items } = await syncs.certificates(principal, params['id']!);
    return { sync: syncDto(sync), items: items.map(itemDto) };
  });
}
