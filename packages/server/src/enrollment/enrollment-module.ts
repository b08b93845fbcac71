import type { FastifyInstance } from 'fastify';
import type { Core } from '../core.ts';
import { createEstEnrollment } from './est/est-enrollment.ts';
import { createEstRequests } from './est/est-requests.ts';
import { registerEstRoutes } from './est/est-routes.ts';
import { createScepService } from './scep/scep-service.ts';
import { createRaRotation, registerRaRotationRoute } from './scep/ra-rotation.ts';
import { createScepRas } from './scep/scep-ra.ts';
import { registerScepRoutes } from './scep/scep-routes.ts';
import { createEnrollmentEndpoints } from './settings/endpoints.ts';
import { registerEnrollmentSettingsRoutes } from './settings/settings-routes.ts';
import { createEnrollmentRepository } from './settings/settings-repository.ts';
import { createEnrollmentSettingsService } from './settings/settings-service.ts';

/**
 * EST and SCEP (issue 5): the per-profile enrollment settings API on both listeners, SCEP on
 * both, EST on the HTTPS listener only (RFC 7030 section 3.2.1 requires TLS).
 */
export function registerEnrollmentRoutes(app: FastifyInstance, core: Core, opts: { https: boolean }): void {
  const { db, sealer, clock, repos } = core;
  const repo = createEnrollmentRepository(db);
  const settings = createEnrollmentSettingsService({ db, repo, catalog: repos.catalog, cas: repos.cas, keys: core.keys, access: core.access, sealer, clock });
  const endpoints = createEnrollmentEndpoints({ repo, catalog: repos.catalog, cas: repos.cas, certificates: repos.certificates, sealer, clock });
  registerEnrollmentSettingsRoutes(app, { settings });
  const scep = createScepService({ issuance: core.issuance, repo, endpoints, certificates: repos.certificates, orders: repos.orders, crl: core.crl, clock });
  const ras = createScepRas({ db, sealer, clock, cas: repos.cas, endpoints });
  registerScepRoutes(app, { endpoints, scep, ras });
  registerRaRotationRoute(app, { rotation: createRaRotation({ db, repo, catalog: repos.catalog, cas: repos.cas, keys: core.keys, access: core.access, sealer, clock, ras }) });
  if (opts.https) registerEstRoutes(app, { endpoints, est: createEstEnrollment({ issuance: core.issuance, requests: createEstRequests(db), certificates: repos.certificates, sealer, clock }) });
}
