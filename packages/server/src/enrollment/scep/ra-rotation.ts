import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { parseCertificate, pemEncode } from '@certbridge/pki';
import { appendAudit } from '../../audit/audit-log.ts';
import type { ApplicationAccess } from '../../auth/application-access.ts';
import type { Principal } from '../../auth/principal.ts';
import type { CaKeyStore } from '../../cas/ca-keys.ts';
import type { Clock } from '../../clock.ts';
import type { Sealer } from '../../crypto/sealer.ts';
import type { Database } from '../../db/schema.ts';
import { AppError, notFound } from '../../errors.ts';
import { route } from '../../http/route-table.ts';
import type { CasRepository } from '../../repositories/cas-repository.ts';
import type { CatalogRepository } from '../../repositories/catalog-repository.ts';
import { issueRaCertificate } from '../settings/ra-certificate.ts';
import type { EnrollmentRepository } from '../settings/settings-repository.ts';
import { sealContext } from '../settings/tables.ts';
import type { ScepRas } from './scep-ra.ts';

/** How long a replaced RA still opens envelopes when the request does not say: clients polling a pending request keep the RA they fetched. */
export const DEFAULT_RA_GRACE_SECONDS = 7 * 86_400;
const MAX_RA_GRACE_SECONDS = 90 * 86_400;

/**
 * RA certificate rotation of a SCEP endpoint: a new RA (signing + key encipherment) issued by
 * Certbridge becomes the one GetCACert returns and CertReps are signed with; the old one is
 * kept, sealed, only to open envelopes (and sign their answers) until its grace period ends.
 * Owners and `applications:manage` holders only, like the other enrollment settings.
 */
export function createRaRotation(deps: {
  db: Kysely<Database>; repo: EnrollmentRepository; catalog: CatalogRepository; cas: CasRepository; keys: CaKeyStore;
  access: ApplicationAccess; sealer: Sealer; clock: Clock; ras: ScepRas;
}) {
  const { db, repo, catalog, sealer, clock } = deps;
  return {
    async rotate(actor: Principal, appId: string, profileRef: string, graceSeconds = DEFAULT_RA_GRACE_SECONDS) {
      const application = await deps.access.require(actor, appId, 'manage-members');
      const profile = await catalog.findProfile(profileRef);
      if (!profile || !(await catalog.hasApplicationProfile(application.id, profile.id))) throw notFound('profile', profileRef);
      const row = await repo.findByProfile(profile.id);
      if (!row || row.application_id !== application.id || !row.scep_enabled || !row.ra_certificate_der || !row.ra_key_sealed) {
        throw new AppError('CONFLICT', `SCEP is not enabled on profile ${profile.slug} of application ${application.name}: there is no RA to rotate`);
      }
      const issued = await issueRaCertificate({ cas: deps.cas, keys: deps.keys, clock }, profile);
      const usableUntil = new Date(clock.now().getTime() + graceSeconds * 1000);
      const oldKey = sealer.open(row.ra_key_sealed, sealContext.raKey(row.id));
      const [oldInfo, newInfo] = [parseCertificate(row.ra_certificate_der), parseCertificate(issued.certificateDer)];
      await db.transaction().execute(async (trx) => {
        const retiredId = await deps.ras.retire(trx, row.id, { certificateDer: row.ra_certificate_der!, keyPkcs8: oldKey }, usableUntil);
        await repo.update(trx, row.id, { ra_certificate_der: issued.certificateDer, ra_key_sealed: sealer.seal(issued.keyPkcs8, sealContext.raKey(row.id)) });
        await appendAudit(trx, {
          actor, action: 'scep.ra.rotate', resourceType: 'application', resourceId: application.id, outcome: 'success',
          details: { profile: profile.slug, retiredId, oldSerial: oldInfo.serialHex, newSerial: newInfo.serialHex, oldUsableUntil: usableUntil.toISOString() },
        }, clock);
      });
      return {
        profile: profile.slug,
        raCertificate: pemEncode('CERTIFICATE', issued.certificateDer),
        previous: { raCertificate: pemEncode('CERTIFICATE', row.ra_certificate_der), serial: oldInfo.serialHex, usableUntil },
      };
    },
  };
}

export type RaRotation = ReturnType<typeof createRaRotation>;

/** `POST /api/v1/applications/{app}/enrollment/{profile}/scep/ra/rotate` with an optional `graceSeconds`. */
export function registerRaRotationRoute(app: FastifyInstance, deps: { rotation: RaRotation }): void {
  route(app, {
    method: 'POST', url: '/api/v1/applications/:appId/enrollment/:profile/scep/ra/rotate', tag: 'enrollment',
    summary: 'Rotate the SCEP RA certificate of an application profile; the old RA still opens envelopes for graceSeconds (default 7 days)',
    body: z.object({ graceSeconds: z.number().int().min(0).max(MAX_RA_GRACE_SECONDS).optional() }).strict().default({}),
    responses: { 200: 'The new RA certificate and until when the previous one is honoured' },
  }, async ({ principal, params, body }) => deps.rotation.rotate(principal, params['appId']!, params['profile']!, body.graceSeconds));
}
