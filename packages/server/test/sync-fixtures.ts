import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseDn } from '@certbridge/pki';
import type { Principal } from '../src/auth/principal.ts';
import { bootstrap } from '../src/bootstrap.ts';
import type { Clock } from '../src/clock.ts';
import { createCore } from '../src/core.ts';
import { createSealer } from '../src/crypto/sealer.ts';
import type { CertificateRow } from '../src/db/schema.ts';
import { migrateToLatest } from '../src/db/database.ts';
import { buildApp } from '../src/http/app.ts';
import { VaultError, type VaultCertificate, type VaultClient } from '../src/syncs/key-vault.ts';
import type { VaultOpener } from '../src/syncs/sync-reconciler.ts';
import type { SyncJob } from '../src/syncs/syncs-module.ts';
import { freshDatabase, PKI_URL, type Engine, type TestEnv } from './helpers.ts';

interface Version extends VaultCertificate { pfx: Uint8Array; password: string }

/**
 * An in-memory Key Vault with the behaviour syncs rely on: versions per name, enabled flags,
 * tags, soft delete (a deleted name answers 409 to an import until recovered) and throttling
 * that outlasts the client's retries.
 */
export function createMemoryVault() {
  const live = new Map<string, Version[]>();
  const deleted = new Map<string, Version[]>();
  let throttled = 0;
  const key = (name: string) => name.toLowerCase();
  const gate = () => {
    if (throttled > 0 && throttled--) throw new VaultError('Key Vault is throttling requests (429) and the retries honouring Retry-After ran out: Too many requests', 429, 'Throttled');
  };
  const view = ({ name, version, enabled, tags }: Version): VaultCertificate => ({ name, version, enabled, tags });
  const client: VaultClient = {
    async latest(name) {
      gate();
      const v = live.get(key(name))?.at(-1);
      return v && view(v);
    },
    async importPfx(name, pfx, password, tags) {
      gate();
      if (deleted.has(key(name))) throw new VaultError(`Certificate ${name} is currently in a deleted but recoverable state`, 409, 'Conflict');
      const v: Version = { name, version: randomBytes(16).toString('hex'), enabled: true, tags: { ...tags }, pfx, password };
      live.set(key(name), [...(live.get(key(name)) ?? []), v]);
      return view(v);
    },
    async setEnabled(name, version, enabled) {
      gate();
      const v = live.get(key(name))?.find((x) => x.version === version);
      if (!v) throw new VaultError(`A certificate with (name/id) ${name}/${version} was not found in this key vault`, 404, 'CertificateNotFound');
      v.enabled = enabled;
    },
    async remove(name) {
      gate();
      const versions = live.get(key(name));
      if (!versions) return;
      live.delete(key(name));
      deleted.set(key(name), versions);
    },
    async recover(name) {
      gate();
      const versions = deleted.get(key(name));
      if (!versions) return false;
      deleted.delete(key(name));
      live.set(key(name), versions);
      return true;
    },
  };
  return {
    client, live, deleted,
    /** The next `n` calls answer 429 as if the client's own retries were exhausted. */
    throttle: (n: number) => void (throttled = n),
    versions: (name: string) => live.get(key(name)) ?? [],
  };
}

/** A Certbridge test environment whose syncs use `openVault` and whose queue runs jobs in-process. */
export async function createSyncEnv(engine: Engine, openVault?: VaultOpener, opts: { clock?: Clock } = {}) {
  const db = await freshDatabase(engine);
  await migrateToLatest(db.handle.db);
  const masterKey = randomBytes(32);
  const core = createCore({ db: db.handle.db, sealer: createSealer(masterKey), pkiUrl: PKI_URL, ...(opts.clock ? { clock: opts.clock } : {}), ...(openVault ? { syncs: { openVault } } : {}) });
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-sync-'));
  const boot = await bootstrap(core, { engine, dataDir, pkiUrl: PKI_URL });
  const app = await buildApp(core, { publicUrl: 'https://certbridge.test' });
  const queued: SyncJob[] = [];
  // The request path only enqueues; `drain()` plays the pg-boss worker.
  core.syncs.useQueue({ send: async (job) => void queued.push(job) });
  const env: TestEnv = {
    engine, core, app, handle: db.handle, dataDir, boot, adminToken: boot.adminToken!, masterKey,
    close: async () => {
      await app.close();
      await db.drop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
  const admin = (await core.auth.authenticateToken(env.adminToken)) as Principal;
  return {
    env, core, admin, queued,
    /** Runs queued jobs (and those they queue) until none is left; returns the errors the jobs threw. */
    async drain(): Promise<unknown[]> {
      const errors: unknown[] = [];
      for (let job = queued.shift(); job; job = queued.shift()) await core.syncs.handle(job).catch((err: unknown) => errors.push(err));
      return errors;
    },
    /** Issues a certificate with a server-generated key (or from a CSR: no key held) through application `default`. */
    async issue(cn: string, csr?: string): Promise<CertificateRow> {
      const application = (await core.repos.catalog.findApplication('default'))!;
      const profile = (await core.repos.catalog.findProfile('default-tls'))!;
      const ctx = { actor: admin, protocol: 'api' as const, application, profile };
      const outcome = csr
        ? await core.issuance.issue(ctx, { kind: 'csr', csr })
        : await core.issuance.issue(ctx, { kind: 'keygen', subject: parseDn(`CN=${cn}`), sans: [{ type: 'dns', value: cn }] });
      if (outcome.status !== 'issued') throw new Error(`not issued: ${outcome.status}`);
      return outcome.certificate;
    },
  };
}

export type SyncEnv = Awaited<ReturnType<typeof createSyncEnv>>;
