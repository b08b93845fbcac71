import type { CertificateService } from '../certificates/certificate-service.ts';
import type { IssuanceService } from '../issuance/issuance-service.ts';
import type { SyncHooks } from './syncs-module.ts';

/**
 * Issuance and renewal events for syncs, as a decorator over the one issuance path: every
 * protocol (API, ACME, EST, SCEP, CLI) and the background poll of pending ADCS orders call
 * `issue` or `poll` on this object, so an issued certificate is reported once, after its
 * transaction committed (and, for a renewal, after `renewed_from_id` is set).
 */
export function withIssuanceEvents(issuance: IssuanceService, hooks: SyncHooks): IssuanceService {
  return {
    ...issuance,
    async issue(ctx, input) {
      const outcome = await issuance.issue(ctx, input);
      // The counter the request's own catalogue reads used: the sync lookup sees that catalogue too, without asking again.
      if (outcome.status === 'issued') await hooks.certificateIssued(outcome.certificate, ctx.catalogVersion);
      return outcome;
    },
    async poll(orderId, actor) {
      const outcome = await issuance.poll(orderId, actor);
      if (outcome.status === 'issued') await hooks.certificateIssued(outcome.certificate);
      return outcome;
    },
  };
}

/** Revocation events for syncs: every revocation (API, ACME revokeCert, CLI) goes through `revoke`. */
export function withRevocationEvents(certificates: CertificateService, hooks: SyncHooks): CertificateService {
  return {
    ...certificates,
    async revoke(actor, id, reason) {
      const revoked = await certificates.revoke(actor, id, reason);
      await hooks.certificateRevoked(revoked);
      return revoked;
    },
  };
}
