import { randomBytes } from 'node:crypto';
import { buildPkcs12, importPrivateKey } from '@certbridge/pki';
import type { Kysely } from 'kysely';
import { appendAudit } from '../audit/audit-log.ts';
import type { Clock } from '../clock.ts';
import type { Sealer } from '../crypto/sealer.ts';
import type { Database } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { serverKeyContext } from '../issuance/issuance-service.ts';
import { VaultError, type VaultClient } from './key-vault.ts';
import type { Candidate, SyncStore } from './sync-store.ts';
import type { SyncItemRow, SyncRow } from './sync-tables.ts';
import { vaultName, vaultNameBase } from './vault-names.ts';

export const NO_KEY_REASON = 'Certbridge does not hold the private key';
/** Tags on every imported version: where it came from. */
export const TAG_SERIAL = 'certbridge-serial';
export const TAG_ID = 'certbridge-id';

/** Opens the vault of a sync with its connection's credential. */
export type VaultOpener = (sync: SyncRow) => Promise<VaultClient>;

/** What a run did; `retryable` when an error was throttling or an outage (worth retrying soon). */
export interface RunReport { syncId: string; synced: number; disabled: number; deleted: number; skipped: number; failed: number; errors: string[]; retryable: boolean }

/** A run that left work undone; `retryable` says whether trying again soon may help (throttling, outage). */
export class SyncRunError extends Error {
  constructor(message: string, readonly retryable: boolean) {
    super(message);
    this.name = 'SyncRunError';
  }
}

const emptyReport = (syncId: string): RunReport => ({ syncId, synced: 0, disabled: 0, deleted: 0, skipped: 0, failed: 0, errors: [], retryable: false });
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Brings a vault in line with Certbridge, one renewal lineage at a time (one lineage = one Key
 * Vault certificate name). Per lineage: the newest certificate, if active, unexpired and with a
 * key Certbridge holds, is the current version (imported when the vault's newest version does not
 * carry its serial, which also repairs a certificate deleted in the vault); revoked certificates
 * that reached the vault are disabled, or the whole vault certificate is deleted when the sync says
 * `delete` and the lineage has nothing current left (Key Vault deletes certificates, not versions).
 * Runs of one sync are serialised in this process; a second instance at worst imports an
 * identical extra version.
 */
export function createSyncReconciler(deps: { db: Kysely<Database>; store: SyncStore; sealer: Sealer; clock: Clock; openVault: VaultOpener }) {
  const { db, store, clock } = deps;
  const running = new Map<string, Promise<unknown>>();

  function serialised<T>(syncId: string, fn: () => Promise<T>): Promise<T> {
    const next = (running.get(syncId) ?? Promise.resolve()).catch(() => undefined).then(fn);
    running.set(syncId, next);
    void next.finally(() => running.get(syncId) === next && running.delete(syncId)).catch(() => undefined);
    return next;
  }

  async function pfxOf(certificateId: string, friendlyName: string): Promise<{ pfx: Uint8Array; password: string; serial: string }> {
    const row = await store.certificate(certificateId);
    if (!row.private_key_sealed || !row.order_id) throw new Error(NO_KEY_REASON);
    const privateKey = importPrivateKey(deps.sealer.open(row.private_key_sealed, serverKeyContext(row.order_id)));
    // A fresh password per import: it only protects the PFX on its way and is never stored.
    const password = randomBytes(24).toString('base64url');
    const chainDer = row.chain.map((b) => new Uint8Array(Buffer.from(b, 'base64')));
    // A copy: node-postgres hands bytea out as pooled Buffers, whose `.buffer` is the whole pool.
    const certificateDer = new Uint8Array(row.der);
    return { pfx: buildPkcs12({ privateKey, certificateDer, chainDer, password, friendlyName }), password, serial: row.serial_hex };
  }

  /** Makes `current` the newest enabled version of `name`; true when a deleted certificate had to be recovered first. */
  async function push(sync: SyncRow, vault: VaultClient, name: string, current: Candidate, item: SyncItemRow | undefined): Promise<boolean> {
    let recovered = false;
    for (;;) {
      const latest = await vault.latest(name);
      if (latest && latest.tags[TAG_SERIAL] === current.serialHex) {
        if (!latest.enabled) await vault.setEnabled(name, latest.version, true);
        if (item?.state !== 'synced' || item.vault_version !== latest.version || !latest.enabled) {
          await store.saveItem(db, sync.id, current.id, { lineage_id: current.lineageId, state: 'synced', reason: null, vault_name: name, vault_version: latest.version, last_error: null, last_synced_at: clock.now() });
        }
        return recovered;
      }
      const { pfx, password, serial } = await pfxOf(current.id, name);
      try {
        const imported = await vault.importPfx(name, pfx, password, { [TAG_SERIAL]: serial, [TAG_ID]: current.id });
        await db.transaction().execute(async (trx) => {
          await store.saveItem(trx, sync.id, current.id, { lineage_id: current.lineageId, state: 'synced', reason: null, vault_name: name, vault_version: imported.version, last_error: null, attempts: 0, last_synced_at: clock.now() });
          await appendAudit(trx, { actor: null, action: 'sync.push', resourceType: 'certificate', resourceId: current.id, outcome: 'success', details: { syncId: sync.id, sync: sync.name, vaultName: name, version: imported.version, serial } }, clock);
        });
        return recovered;
      } catch (err) {
        // 409: the name is a soft-deleted certificate; recover it once and look again.
        if (recovered || !(err instanceof VaultError) || err.status !== 409 || !(await vault.recover(name))) throw err;
        recovered = true;
      }
    }
  }

  async function runLineage(sync: SyncRow, vault: VaultClient, members: Candidate[], items: Map<string, SyncItemRow>, report: RunReport): Promise<void> {
    const now = clock.now();
    const newest = members.at(-1)!;
    const skip = async (c: Candidate, reason: string) => {
      report.skipped++;
      const item = items.get(c.id);
      if (item?.state !== 'skipped' || item.reason !== reason) await store.saveItem(db, sync.id, c.id, { lineage_id: c.lineageId, state: 'skipped', reason, last_error: null });
    };
    const current = newest.hasKey && newest.status === 'active' && newest.notAfter > now ? newest : undefined;
    const version = (c: Candidate) => items.get(c.id)?.vault_version ?? null;
    for (const c of members) {
      if (c === current || version(c)) continue;
      if (!c.hasKey) await skip(c, NO_KEY_REASON);
      else if (c.status === 'revoked') await skip(c, 'revoked before it reached the vault');
      else if (c.notAfter <= now) await skip(c, 'expired');
      else await skip(c, `superseded by its renewal ${newest.id}`);
    }
    const revokedIn = (states: string[]) => members.filter((c) => c.status === 'revoked' && version(c) && states.includes(items.get(c.id)!.state));
    let toRevoke = revokedIn(['pending', 'synced', 'failed']);
    if (!current && toRevoke.length === 0) return;

    const base = vaultNameBase(members[0]!.subject, members[0]!.profileSlug);
    const name = await store.claimName(sync.id, newest.lineageId, vaultName(base, newest.lineageId), vaultName(base, newest.lineageId, true));
    let working: Candidate = current ?? toRevoke[0]!;
    try {
      if (current) {
        // A recovered certificate brings back the versions of revoked certificates too.
        if (await push(sync, vault, name, current, items.get(current.id))) toRevoke = revokedIn(['pending', 'synced', 'failed', 'disabled', 'deleted']);
        report.synced++;
      }
      if (sync.on_revocation === 'delete' && !current && newest.status === 'revoked') {
        await vault.remove(name);
        await revocationDone(sync, members.filter(version), 'deleted', name);
        report.deleted += toRevoke.length;
        return;
      }
      for (const c of toRevoke) {
        working = c;
        try {
          await vault.setEnabled(name, version(c)!, false);
        } catch (err) {
          // Gone from the vault already: nothing left that could be used.
          if (!(err instanceof VaultError) || err.status !== 404) throw err;
        }
        await revocationDone(sync, [c], 'disabled', name);
        report.disabled++;
      }
    } catch (err) {
      const message = messageOf(err);
      report.failed++;
      report.errors.push(`${name}: ${message}`);
      await store.saveItem(db, sync.id, working.id, { lineage_id: working.lineageId, state: 'failed', vault_name: name, last_error: message, attempts: (items.get(working.id)?.attempts ?? 0) + 1 });
      if (err instanceof VaultError && err.retryable) report.retryable = true;
    }
  }

  async function revocationDone(sync: SyncRow, certs: Candidate[], state: 'disabled' | 'deleted', name: string): Promise<void> {
    await db.transaction().execute(async (trx) => {
      for (const c of certs) {
        await store.saveItem(trx, sync.id, c.id, { lineage_id: c.lineageId, state, vault_name: name, last_error: null, last_synced_at: clock.now() });
        await appendAudit(trx, { actor: null, action: `sync.${state === 'disabled' ? 'disable' : 'delete'}`, resourceType: 'certificate', resourceId: c.id, outcome: 'success', details: { syncId: sync.id, sync: sync.name, vaultName: name } }, clock);
      }
    });
  }

  /** Runs the lineages of `only` (a certificate id) or all of the sync; throws SyncRunError when work is left. */
  async function reconcile(sync: SyncRow, only?: string): Promise<RunReport> {
    const report = emptyReport(sync.id);
    let vault: VaultClient;
    try {
      vault = await deps.openVault(sync);
    } catch (err) {
      await store.recordRun(sync.id, clock.now(), `the vault cannot be opened: ${messageOf(err)}`);
      // A removed or retyped connection (AppError) stays broken until someone fixes the sync.
      throw new SyncRunError(`sync ${sync.name}: the vault cannot be opened: ${messageOf(err)}`, !(err instanceof AppError));
    }
    const candidates = await store.candidates(sync, only);
    const items = new Map((await store.items(sync.id)).map((i) => [i.certificate_id, i]));
    const lineages = new Map<string, Candidate[]>();
    for (const c of candidates) lineages.set(c.lineageId, [...(lineages.get(c.lineageId) ?? []), c]);
    for (const members of lineages.values()) await runLineage(sync, vault, members, items, report);
    await store.recordRun(sync.id, clock.now(), report.errors.length ? report.errors.join('; ') : null);
    if (report.errors.length) throw new SyncRunError(`sync ${sync.name}: ${report.errors.join('; ')}`, report.retryable);
    return report;
  }

  return {
    /** Full reconcile of one sync (initial sync, "run now", the periodic repair). */
    async runSync(syncId: string): Promise<RunReport> {
      return serialised(syncId, async () => {
        const sync = await store.find(syncId);
        return sync?.enabled ? reconcile(sync) : emptyReport(syncId);
      });
    },
    /** The lineage of one certificate in every enabled sync that covers it (issuance, renewal, revocation). */
    async runCertificate(certificateId: string): Promise<RunReport[]> {
      const cert = await store.certificate(certificateId);
      const reports: RunReport[] = [];
      const failures: SyncRunError[] = [];
      for (const sync of await store.covering(cert.application_id, cert.profile_id)) {
        try {
          reports.push(await serialised(sync.id, () => reconcile(sync, certificateId)));
        } catch (err) {
          if (!(err instanceof SyncRunError)) throw err;
          failures.push(err);
        }
      }
      if (failures.length) throw new SyncRunError(failures.map((f) => f.message).join('; '), failures.some((f) => f.retryable));
      return reports;
    },
  };
}

export type SyncReconciler = ReturnType<typeof createSyncReconciler>;
