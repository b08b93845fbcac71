import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { pemEncode } from '@certbridge/pki';
import { appendAudit } from '../../audit/audit-log.ts';
import type { ApplicationAccess } from '../../auth/application-access.ts';
import type { Principal } from '../../auth/principal.ts';
import type { CaKeyStore } from '../../cas/ca-keys.ts';
import type { Clock } from '../../clock.ts';
import type { Sealer } from '../../crypto/sealer.ts';
import type { ApplicationRow, Database, ProfileRow } from '../../db/schema.ts';
import { AppError, conflict, notFound } from '../../errors.ts';
import type { CasRepository } from '../../repositories/cas-repository.ts';
import type { CatalogRepository } from '../../repositories/catalog-repository.ts';
import { issueRaCertificate } from './ra-certificate.ts';
import type { EnrollmentRepository } from './settings-repository.ts';
import { sealContext, type EnrollmentSettingsRow, type EstAuth, type ScepChallengeMode } from './tables.ts';

export interface EnrollmentSettingsInput {
  est?: { enabled: boolean; auth?: EstAuth; username?: string; password?: string; default?: boolean };
  scep?: { enabled: boolean; challenge?: ScepChallengeMode; staticChallenge?: string; challengeTtlSeconds?: number };
}

export const challengeHash = (challenge: string): string => createHash('sha256').update(challenge, 'utf8').digest('hex');

/** What the API shows: never a secret, only whether one is set. */
export function settingsDto(row: EnrollmentSettingsRow, application: ApplicationRow, profile: ProfileRow) {
  return {
    id: row.id, application: application.name, applicationId: application.id, profile: profile.slug, profileId: profile.id,
    est: {
      enabled: row.est_enabled, auth: row.est_auth, username: row.est_username, hasSecret: row.est_secret_sealed !== null, default: row.est_default,
      path: `/.well-known/est/${profile.slug}`,
    },
    scep: {
      enabled: row.scep_enabled, challenge: row.scep_challenge, hasStaticChallenge: row.scep_static_sealed !== null,
      challengeTtlSeconds: row.scep_challenge_ttl_seconds, path: `/scep/${profile.slug}`,
      raCertificate: row.ra_certificate_der ? pemEncode('CERTIFICATE', row.ra_certificate_der) : null,
    },
    updatedAt: row.updated_at,
  };
}

/**
 * Administration of the EST/SCEP enrollment settings of an application's profile (owners and
 * `applications:manage`), and one-time SCEP challenges (anyone who may issue in the application).
 */
export function createEnrollmentSettingsService(deps: {
  db: Kysely<Database>; repo: EnrollmentRepository; catalog: CatalogRepository; cas: CasRepository; keys: CaKeyStore; access: ApplicationAccess; sealer: Sealer; clock: Clock;
}) {
  const { db, repo, catalog, sealer, clock } = deps;

  async function load(actor: Principal, appId: string, profileRef: string, ability: 'read' | 'issue' | 'manage-members') {
    const application = await deps.access.require(actor, appId, ability);
    const profile = await catalog.findProfile(profileRef);
    if (!profile || !(await catalog.hasApplicationProfile(application.id, profile.id))) throw notFound('profile', profileRef);
    const row = await repo.findByProfile(profile.id);
    if (row && row.application_id !== application.id) throw conflict(`profile ${profile.slug} serves the enrollment endpoints of another application`);
    return { application, profile, row };
  }

  return {
    async get(actor: Principal, appId: string, profileRef: string) {
      const { application, profile, row } = await load(actor, appId, profileRef, 'read');
      if (!row) throw notFound('enrollment settings', `${application.name}/${profile.slug}`);
      return settingsDto(row, application, profile);
    },

    async put(actor: Principal, appId: string, profileRef: string, input: EnrollmentSettingsInput) {
      const { application, profile, row } = await load(actor, appId, profileRef, 'manage-members');
      const id = row?.id ?? randomUUID();
      const est = input.est ?? { enabled: row?.est_enabled ?? false };
      const estAuth = est.auth ?? row?.est_auth ?? 'basic';
      const estSecret = est.password !== undefined ? sealer.seal(est.password, sealContext.estSecret(id)) : row?.est_secret_sealed ?? null;
      if (est.enabled && estAuth !== 'certificate' && !estSecret) throw new AppError('VALIDATION_FAILED', 'EST with Basic authentication needs a password (est.password)');
      const scep = input.scep ?? { enabled: row?.scep_enabled ?? false };
      const mode = scep.challenge ?? row?.scep_challenge ?? 'static';
      const staticSealed = scep.staticChallenge !== undefined ? sealer.seal(scep.staticChallenge, sealContext.scepChallenge(id)) : row?.scep_static_sealed ?? null;
      if (scep.enabled && mode === 'static' && !staticSealed) throw new AppError('VALIDATION_FAILED', 'SCEP with a static challenge needs scep.staticChallenge');
      let ra: { ra_certificate_der: Uint8Array; ra_key_sealed: string } | Record<string, never> = {};
      if (scep.enabled && !row?.ra_certificate_der) {
        const issued = await issueRaCertificate({ cas: deps.cas, keys: deps.keys, clock }, profile);
        ra = { ra_certificate_der: issued.certificateDer, ra_key_sealed: sealer.seal(issued.keyPkcs8, sealContext.raKey(id)) };
      }
      const values = {
        est_enabled: est.enabled, est_auth: estAuth, est_username: est.username ?? row?.est_username ?? application.name, est_secret_sealed: estSecret,
        est_default: est.default ?? row?.est_default ?? false,
        scep_enabled: scep.enabled, scep_challenge: mode, scep_static_sealed: staticSealed,
        scep_challenge_ttl_seconds: scep.challengeTtlSeconds ?? row?.scep_challenge_ttl_seconds ?? 3600, ...ra,
      };
      const saved = await db.transaction().execute(async (trx) => {
        if (values.est_default) await repo.clearEstDefault(trx, id);
        const result = row ? await repo.update(trx, id, values) : await repo.insert(trx, { id, application_id: application.id, profile_id: profile.id, ...values });
        await appendAudit(trx, {
          actor, action: 'enrollment.settings.update', resourceType: 'application', resourceId: application.id, outcome: 'success',
          details: { profile: profile.slug, est: { enabled: est.enabled, auth: estAuth, secretChanged: est.password !== undefined }, scep: { enabled: scep.enabled, challenge: mode, raIssued: 'ra_key_sealed' in ra } },
        }, clock);
        return result;
      });
      return settingsDto(saved, application, profile);
    },

    /** A dynamic SCEP challenge: shown once, valid once, until `expiresAt` (RFC 8894 section 2.3). */
    async createChallenge(actor: Principal, appId: string, profileRef: string) {
      const { application, profile, row } = await load(actor, appId, profileRef, 'issue');
      if (!row?.scep_enabled || row.scep_challenge !== 'dynamic') throw new AppError('CONFLICT', `SCEP on profile ${profile.slug} does not use dynamic challenges`);
      const challenge = randomBytes(18).toString('base64url');
      const expiresAt = new Date(clock.now().getTime() + row.scep_challenge_ttl_seconds * 1000);
      const challengeId = randomUUID();
      await db.transaction().execute(async (trx) => {
        await repo.insertChallenge(trx, { id: challengeId, settings_id: row.id, challenge_hash: challengeHash(challenge), expires_at: expiresAt, created_by: actor.userId });
        await appendAudit(trx, { actor, action: 'scep.challenge.create', resourceType: 'application', resourceId: application.id, outcome: 'success', details: { profile: profile.slug, challengeId, expiresAt: expiresAt.toISOString() } }, clock);
      });
      return { id: challengeId, challenge, expiresAt };
    },
  };
}

export type EnrollmentSettingsService = ReturnType<typeof createEnrollmentSettingsService>;
