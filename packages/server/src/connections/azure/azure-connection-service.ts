import { randomUUID, X509Certificate } from 'node:crypto';
import type { Kysely, Updateable } from 'kysely';
import { appendAudit } from '../../audit/audit-log.ts';
import type { Principal } from '../../auth/principal.ts';
import { requirePermission } from '../../auth/rbac.ts';
import type { Clock } from '../../clock.ts';
import type { Sealer } from '../../crypto/sealer.ts';
import type { Database } from '../../db/schema.ts';
import { AppError, conflict, notFound } from '../../errors.ts';
import { resolveCloud } from './azure-clouds.ts';
import { testAzureConnection, type AzureTestReport } from './azure-connection-test.ts';
import type { AzureConnectionsRepository } from './azure-connections-repository.ts';
import type { AzureCredentials } from './azure-credentials.ts';
import { checkCaPem, checkCertificate, type AzureCreateInput, type AzureUpdateInput, type RotationInput } from './azure-schemas.ts';
import { sealContext, type AzureConnectionRow, type AzureConnectionsTable } from './azure-tables.ts';
import type { SecretRotation } from './secret-rotation.ts';

/** API representation: secrets, keys and tokens are never part of it. */
export function azureConnectionDto(c: AzureConnectionRow) {
  const cert = c.certificate_pem ? new X509Certificate(c.certificate_pem) : undefined;
  return {
    id: c.id, name: c.name, type: c.type, method: c.method, tenantId: c.tenant_id, clientId: c.client_id,
    authorityHost: c.authority_host, caPem: c.ca_pem, graphUrl: c.graph_url, vaultUrlTemplate: c.vault_url_template, vaultName: c.vault_name,
    secretSet: c.secret_sealed !== null,
    certificate: cert ? { subject: cert.subject, notAfter: new Date(cert.validTo).toISOString(), thumbprint: cert.fingerprint.replace(/:/g, '') } : null,
    oauth: c.method === 'oauth' ? { signedInAs: c.oauth_username, connected: c.oauth_cache_sealed !== null } : null,
    rotation: {
      enabled: c.rotation_enabled, keyId: c.rotation_key_id, intervalDays: c.rotation_interval_days, time: c.rotation_time, timeZone: c.rotation_time_zone,
      lastRotationAt: c.last_rotation_at, nextRotationAt: c.rotation_enabled ? c.next_rotation_at : null, attempts: c.rotation_attempts,
      inProgress: c.rotation_pending_key_id !== null || c.rotation_retire_key_id !== null,
    },
    lastError: c.last_error, lastErrorAt: c.last_error_at, warnings: [] as string[], createdAt: c.created_at, updatedAt: c.updated_at,
  };
}

function rotationPatch(row: AzureConnectionRow, r: RotationInput, now: Date): Updateable<AzureConnectionsTable> {
  // next_rotation_at is kept: a schedule is resumed, not restarted (a run under way keeps its claim, rotation_claimed_until).
  if (!r.enabled) return { rotation_enabled: false };
  if (row.type !== 'azure-client-secrets' || row.method !== 'client-secret') {
    throw new AppError('VALIDATION_FAILED', 'automatic rotation is for azure-client-secrets connections that sign in with a client secret', { field: 'rotation' });
  }
  const keyId = r.keyId ?? row.rotation_key_id;
  const intervalDays = r.intervalDays ?? row.rotation_interval_days;
  const time = r.time ?? row.rotation_time;
  const timeZone = r.timeZone ?? row.rotation_time_zone;
  const missing = Object.entries({ keyId, intervalDays, time, timeZone }).filter(([, v]) => v === null || v === undefined).map(([k]) => `rotation.${k}`);
  if (missing.length) throw new AppError('VALIDATION_FAILED', `enabling rotation needs ${missing.join(', ')}`, { fields: missing });
  // Enabling rotates at once, unless a run still holds its lease or a schedule was kept from before
  // (re-enabling resumes it); a change of settings alone keeps the next time.
  const starting = !row.rotation_enabled && (row.next_rotation_at === null || row.next_rotation_at.getTime() <= now.getTime());
  return {
    rotation_enabled: true, rotation_key_id: keyId, rotation_interval_days: intervalDays, rotation_time: time, rotation_time_zone: timeZone,
    ...(starting ? { next_rotation_at: now, rotation_attempts: 0 } : {}),
  };
}

/**
 * Azure connections signing in with a client secret or certificate (OAuth ones are created by
 * azure-oauth.ts): CRUD, test and the rotation settings. Every change is audited; secrets and
 * keys are sealed per row and field (azure-tables.ts `sealContext`).
 */
export function createAzureConnectionService(deps: {
  db: Kysely<Database>; repo: AzureConnectionsRepository; sealer: Sealer; clock: Clock; credentials: AzureCredentials; rotation: SecretRotation;
  /** Whether another kind of connection (ADCS) has this name: names are unique across kinds. */
  nameTaken: (name: string) => Promise<boolean>;
}) {
  const { db, repo, sealer, clock, credentials, rotation } = deps;
  const require = async (idOrName: string) => (await repo.find(idOrName)) ?? Promise.reject(notFound('connection', idOrName));
  const audited = (actor: Principal, action: string, fn: (trx: Kysely<Database>) => Promise<AzureConnectionRow>, details: Record<string, unknown> = {}) =>
    db.transaction().execute(async (trx) => {
      const row = await fn(trx);
      await appendAudit(trx, { actor, action, resourceType: 'connection', resourceId: row.id, outcome: 'success', details: { name: row.name, type: row.type, method: row.method, ...details } }, clock);
      return row;
    });

  const secretFields = (id: string, input: Pick<AzureUpdateInput, 'clientSecret' | 'certificatePem' | 'privateKeyPem'>): Updateable<AzureConnectionsTable> => {
    const patch: Updateable<AzureConnectionsTable> = {};
    if (input.clientSecret !== undefined) patch.secret_sealed = sealer.seal(input.clientSecret, sealContext.secret(id));
    if (input.certificatePem !== undefined || input.privateKeyPem !== undefined) {
      if (!input.certificatePem || !input.privateKeyPem) throw new AppError('VALIDATION_FAILED', 'certificatePem and privateKeyPem go together', { field: input.certificatePem ? 'privateKeyPem' : 'certificatePem' });
      const checked = checkCertificate(input.certificatePem, input.privateKeyPem);
      patch.certificate_pem = checked.certificatePem;
      patch.private_key_sealed = sealer.seal(checked.keyPem, sealContext.privateKey(id));
    }
    return patch;
  };

  return {
    require,
    async assertNameFree(name: string): Promise<void> {
      if ((await repo.find(name)) || (await deps.nameTaken(name))) throw conflict(`a connection named ${name} already exists`);
    },

    async create(actor: Principal, input: AzureCreateInput): Promise<AzureConnectionRow> {
      requirePermission(actor, 'connections:manage');
      const cloud = resolveCloud(input);
      checkCaPem(input.caPem);
      if (input.method === 'client-secret' && !input.clientSecret) throw new AppError('VALIDATION_FAILED', 'the client-secret method needs clientSecret', { field: 'clientSecret' });
      if (input.method === 'certificate' && (!input.certificatePem || !input.privateKeyPem)) throw new AppError('VALIDATION_FAILED', 'the certificate method needs certificatePem and privateKeyPem', { field: 'certificatePem' });
      await this.assertNameFree(input.name);
      const id = randomUUID();
      const secrets = secretFields(id, input.method === 'client-secret' ? { clientSecret: input.clientSecret } : { certificatePem: input.certificatePem, privateKeyPem: input.privateKeyPem });
      return audited(actor, 'connection.create', (trx) => repo.insert(trx, {
        id, name: input.name, type: input.type, method: input.method, tenant_id: input.tenantId, client_id: input.clientId,
        authority_host: cloud.authorityHost, graph_url: cloud.graphUrl, vault_url_template: cloud.vaultUrlTemplate, ca_pem: input.caPem ?? null, vault_name: input.vaultName ?? null,
        ...secrets,
      }), { authorityHost: cloud.authorityHost, tenantId: input.tenantId, clientId: input.clientId });
    },

    async update(actor: Principal, idOrName: string, input: AzureUpdateInput): Promise<AzureConnectionRow> {
      requirePermission(actor, 'connections:manage');
      const existing = await require(idOrName);
      if (existing.method === 'oauth' && (input.clientSecret || input.certificatePem || input.clientId)) {
        throw new AppError('VALIDATION_FAILED', 'an OAuth connection has no client secret or certificate of its own: connect again to change the grant', { field: 'method' });
      }
      if (existing.method === 'client-secret' && input.certificatePem) throw new AppError('VALIDATION_FAILED', 'this connection signs in with a client secret', { field: 'certificatePem' });
      if (existing.method === 'certificate' && input.clientSecret) throw new AppError('VALIDATION_FAILED', 'this connection signs in with a certificate', { field: 'clientSecret' });
      // Rotation removes the secret it knows by key id: a secret replaced by hand must bring its own.
      if (existing.rotation_enabled && input.clientSecret && !input.rotation?.keyId) {
        throw new AppError('VALIDATION_FAILED', 'rotation is on: send rotation.keyId of the new client secret with it', { field: 'rotation.keyId' });
      }
      checkCaPem(input.caPem);
      const cloudChanged = input.authorityHost !== undefined || input.graphUrl !== undefined || input.vaultUrlTemplate !== undefined;
      const cloud = cloudChanged ? resolveCloud({ authorityHost: input.authorityHost ?? existing.authority_host, graphUrl: input.graphUrl, vaultUrlTemplate: input.vaultUrlTemplate }) : undefined;
      const patch: Updateable<AzureConnectionsTable> = {
        ...(input.tenantId !== undefined ? { tenant_id: input.tenantId } : {}),
        ...(input.clientId !== undefined ? { client_id: input.clientId } : {}),
        ...(cloud ? { authority_host: cloud.authorityHost, graph_url: cloud.graphUrl, vault_url_template: cloud.vaultUrlTemplate } : {}),
        ...(input.caPem !== undefined ? { ca_pem: input.caPem } : {}),
        ...(input.vaultName !== undefined ? { vault_name: input.vaultName } : {}),
        ...secretFields(existing.id, input),
        ...(input.rotation ? rotationPatch(existing, input.rotation, clock.now()) : {}),
      };
      const fields = Object.keys(input).filter((k) => k !== 'rotation');
      const row = await audited(actor, 'connection.update', (trx) => repo.update(trx, existing.id, patch), { fields, ...(input.rotation ? { rotation: input.rotation } : {}) });
      credentials.forget(row.id);
      if (input.rotation?.enabled && !existing.rotation_enabled && row.next_rotation_at && row.next_rotation_at.getTime() <= clock.now().getTime()) {
        await rotation.rotate(row.id, actor);
        return require(row.id);
      }
      return row;
    },

    async remove(actor: Principal, idOrName: string): Promise<void> {
      requirePermission(actor, 'connections:manage');
      const existing = await require(idOrName);
      await audited(actor, 'connection.delete', async (trx) => (await repo.remove(trx, existing.id), existing));
      credentials.forget(existing.id);
    },

    async test(actor: Principal, idOrName: string): Promise<AzureTestReport> {
      requirePermission(actor, 'connections:manage');
      const row = await require(idOrName);
      credentials.forget(row.id);
      return testAzureConnection(await credentials.credentialFor(row.id));
    },

    /**
     * "Rotate now": one rotation at once, outside the schedule (after a failure was fixed, or when
     * a secret may have leaked), through the same steps and audit as the scheduled ones; the
     * schedule then counts from it. Answers what happened; an Azure failure is an answer, not an
     * error (it is recorded on the connection and retried with backoff, as a scheduled run's is).
     */
    async rotateNow(actor: Principal, idOrName: string): Promise<{ ok: boolean; keyId?: string; error?: string; connection: ReturnType<typeof azureConnectionDto> }> {
      requirePermission(actor, 'connections:manage');
      const row = await require(idOrName);
      if (row.type !== 'azure-client-secrets' || row.method !== 'client-secret') {
        throw new AppError('VALIDATION_FAILED', 'only azure-client-secrets connections that sign in with a client secret rotate their secret', { field: 'type' });
      }
      if (!row.rotation_enabled) throw conflict('rotation is off for this connection: turn it on first (PATCH rotation with the current secret\'s keyId and a schedule)');
      const outcome = await rotation.rotate(row.id, actor, { due: false });
      if (!outcome) throw conflict('a rotation of this connection is already running; its result will show on the connection');
      return { ...outcome, connection: azureConnectionDto(await require(row.id)) };
    },
  };
}

export type AzureConnectionService = ReturnType<typeof createAzureConnectionService>;
