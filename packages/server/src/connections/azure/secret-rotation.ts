import type { TokenCredential } from '@azure/core-auth';
import { identitySdk } from './azure-sdk.ts';
import type { Kysely } from 'kysely';
import { appendAudit } from '../../audit/audit-log.ts';
import { SYSTEM_PRINCIPAL, type Principal } from '../../auth/principal.ts';
import type { Clock } from '../../clock.ts';
import type { Sealer } from '../../crypto/sealer.ts';
import type { Database } from '../../db/schema.ts';
import { azureTransport } from './azure-clouds.ts';
import type { AzureConnectionsRepository } from './azure-connections-repository.ts';
import { clientSecretCredential, type AzureCredentials } from './azure-credentials.ts';
import { describeError } from './azure-errors.ts';
import { sealContext, type AzureConnectionRow } from './azure-tables.ts';
import { createGraphClient, type GraphApplication, type GraphClient } from './graph-client.ts';
import { nextRotationAt, retryBackoffMs } from './rotation-schedule.ts';

/** How long Entra may take to accept a new secret: waits between proof attempts (about 2.5 min in all). */
export const PROPAGATION_DELAYS_MS = [2_000, 4_000, 8_000, 15_000, 30_000, 30_000, 60_000];
/** A claimed rotation is not claimed again for this long (another instance, or a crash mid-run). */
const CLAIM_LEASE_MS = 15 * 60_000;
const DAY_MS = 86_400_000;

export interface RotationDeps {
  db: Kysely<Database>;
  repo: AzureConnectionsRepository;
  sealer: Sealer;
  clock: Clock;
  credentials: AzureCredentials;
  sleep?: (ms: number) => Promise<void>;
  propagationDelaysMs?: number[];
}

export type RotationOutcome = { ok: true; keyId: string } | { ok: false; error: string };

/**
 * Entra refuses a secret it has not replicated yet with invalid_client (AADSTS7000215).
 * @azure/identity passes that on as AuthenticationError, or wraps msal-node's ServerError (with
 * its `errorCode`) in AuthenticationRequiredError's `cause`, depending on the path taken.
 */
function notPropagatedYet(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof identitySdk().AuthenticationError && e.errorResponse.error === 'invalid_client') return true;
    if ((e as { errorCode?: unknown }).errorCode === 'invalid_client') return true;
  }
  return false;
}

/**
 * Automatic client-secret rotation of `azure-client-secrets` connections that sign in with a
 * client secret. Order of writes (each committed before the next Azure call):
 * 1. `rotation_pending_marker` (the new secret's displayName), then Graph addPassword;
 * 2. the new keyId and sealed secret as pending; 3. proof that the new secret gets a token;
 * 4. the new secret becomes the connection's secret and the old keyId is kept to retire;
 * 5. removePassword of the old keyId. A crash at any point leaves a working secret stored, and
 * the next run resumes: pending secret → prove again; marker without key → remove the orphan.
 */
export function createSecretRotation(deps: RotationDeps) {
  const { repo, sealer, clock, credentials } = deps;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const delays = deps.propagationDelaysMs ?? PROPAGATION_DELAYS_MS;

  const audit = (actor: Principal, row: AzureConnectionRow, outcome: 'success' | 'failure', details: Record<string, unknown>) =>
    deps.db.transaction().execute((trx) =>
      appendAudit(trx, { actor, action: 'connection.secret-rotation', resourceType: 'connection', resourceId: row.id, outcome, details: { name: row.name, ...details } }, clock));

  async function prove(row: AzureConnectionRow, secret: string, graphResource: string): Promise<void> {
    const transport = azureTransport(row.ca_pem);
    try {
      const credential = clientSecretCredential(row, secret, transport);
      for (let attempt = 0; ; attempt++) {
        try {
          await credential.getToken(`${graphResource}/.default`);
          return;
        } catch (err) {
          if (!notPropagatedYet(err) || attempt >= delays.length) throw err;
          await sleep(delays[attempt]!);
        }
      }
    } finally {
      transport.agent?.destroy();
    }
  }

  async function steps(row: AzureConnectionRow): Promise<string> {
    const cc = await credentials.credentialFor(row.id, 'azure-client-secrets');
    const graphOf = (credential = cc.credential) =>
      createGraphClient({ graphUrl: cc.cloud.graphUrl, graphResource: cc.resources.graph, credential, kind: 'application', agent: cc.transport.agent });
    const retireOnly = !row.rotation_pending_key_id && !row.rotation_pending_marker && row.rotation_retire_key_id;
    if (retireOnly) return retireOld(row, graphOf);
    const app = await graphOf().getApplication(row.client_id);
    if (!row.rotation_pending_key_id) {
      if (row.rotation_pending_marker) {
        // A crash came between addPassword and recording its key: that secret is unknown to us.
        for (const orphan of app.passwordCredentials.filter((p) => p.displayName === row.rotation_pending_marker)) await graphOf().removePassword(app.id, orphan.keyId);
      }
      checkRetireTarget(row, app);
      const marker = `Certbridge rotation ${clock.now().toISOString()}`;
      row = await repo.update(undefined, row.id, { rotation_pending_marker: marker });
      const interval = row.rotation_interval_days ?? 90;
      const endDateTime = new Date(clock.now().getTime() + Math.min(730, Math.max(2 * interval, interval + 30)) * DAY_MS);
      const created = await graphOf().addPassword(app.id, marker, endDateTime);
      row = await repo.update(undefined, row.id, { rotation_pending_key_id: created.keyId, rotation_pending_secret_sealed: sealer.seal(created.secretText, sealContext.pendingSecret(row.id)) });
    }
    const pendingKeyId = row.rotation_pending_key_id!;
    const secret = sealer.openText(row.rotation_pending_secret_sealed!, sealContext.pendingSecret(row.id));
    await prove(row, secret, cc.resources.graph);
    const retire = row.rotation_key_id && row.rotation_key_id !== pendingKeyId ? row.rotation_key_id : null;
    row = await repo.update(undefined, row.id, {
      secret_sealed: sealer.seal(secret, sealContext.secret(row.id)), rotation_key_id: pendingKeyId, rotation_retire_key_id: retire ?? row.rotation_retire_key_id,
      rotation_pending_marker: null, rotation_pending_key_id: null, rotation_pending_secret_sealed: null,
    });
    credentials.forget(row.id);
    return retireOld(row, graphOf);
  }

  /**
   * The key id given as "the current secret" is removed later, so it must really be this
   * connection's secret: Graph shows the first three characters of each secret as `hint`.
   * Checked before anything is added, so a wrong key id changes nothing.
   */
  function checkRetireTarget(row: AzureConnectionRow, app: GraphApplication): void {
    if (!row.rotation_key_id) return;
    const named = app.passwordCredentials.find((p) => p.keyId === row.rotation_key_id);
    if (!named) throw new Error(`application ${row.client_id} has no client secret with keyId ${row.rotation_key_id}: set rotation.keyId to the key id of the secret this connection uses`);
    const current = sealer.openText(row.secret_sealed!, sealContext.secret(row.id));
    if (named.hint !== null && named.hint !== current.slice(0, named.hint.length)) {
      throw new Error(`client secret ${row.rotation_key_id} is not the secret this connection uses (its hint differs): rotation would remove the wrong secret`);
    }
  }

  /** Step 5 with the new secret's own credential: removePassword of the old key id. */
  async function retireOld(row: AzureConnectionRow, graphOf: (c: TokenCredential) => GraphClient): Promise<string> {
    const retireKeyId = row.rotation_retire_key_id;
    if (retireKeyId) {
      const graph = graphOf((await credentials.credentialFor(row.id, 'azure-client-secrets')).credential);
      const current = await graph.getApplication(row.client_id);
      // Already gone (removed by hand, or by a run that crashed right after) counts as done.
      if (current.passwordCredentials.some((p) => p.keyId === retireKeyId)) await graph.removePassword(current.id, retireKeyId);
      await repo.update(undefined, row.id, { rotation_retire_key_id: null });
    }
    return row.rotation_key_id!;
  }

  return {
    /**
     * Runs one rotation of a connection now: when due (on enabling, or from the schedule), or
     * whenever asked with `due: false` ("rotate now"). Never throws for Azure failures: they are
     * recorded on the connection (last error, next attempt with backoff) and audited. Returns
     * without doing anything if another run holds the claim (or, when `due`, it is not due).
     */
    async rotate(connectionId: string, actor: Principal = SYSTEM_PRINCIPAL, options: { due?: boolean } = {}): Promise<RotationOutcome | undefined> {
      const now = clock.now();
      const claimed = await repo.claimRotation(connectionId, now, new Date(now.getTime() + CLAIM_LEASE_MS), options.due ?? true);
      if (!claimed) return undefined;
      const row = claimed;
      try {
        const keyId = await steps(row);
        const done = clock.now();
        await repo.update(undefined, row.id, {
          rotation_attempts: 0, last_rotation_at: done, last_error: null, last_error_at: null, rotation_claimed_until: null,
          next_rotation_at: nextRotationAt(done, { intervalDays: row.rotation_interval_days!, time: row.rotation_time!, timeZone: row.rotation_time_zone! }),
        });
        await audit(actor, row, 'success', { keyId, retired: row.rotation_key_id });
        return { ok: true, keyId };
      } catch (err) {
        const error = describeError(err);
        const attempts = row.rotation_attempts + 1;
        const failedAt = clock.now();
        await repo.update(undefined, row.id, {
          rotation_attempts: attempts, last_error: error, last_error_at: failedAt, next_rotation_at: new Date(failedAt.getTime() + retryBackoffMs(attempts)), rotation_claimed_until: null,
        });
        await audit(actor, row, 'failure', { error, attempts });
        return { ok: false, error };
      }
    },

    /** The pg-boss job: every enabled rotation whose time has come. */
    async runDue(): Promise<{ rotated: number; failed: number }> {
      let rotated = 0;
      let failed = 0;
      for (const { id } of await repo.dueRotations(clock.now())) {
        const outcome = await this.rotate(id);
        if (outcome?.ok) rotated++;
        else if (outcome) failed++;
      }
      return { rotated, failed };
    },
  };
}

export type SecretRotation = ReturnType<typeof createSecretRotation>;
