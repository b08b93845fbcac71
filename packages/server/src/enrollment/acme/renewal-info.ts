import { parseCertificate } from '@certbridge/pki';
import type { Clock } from '../../clock.ts';
import type { AcmeRepository } from './acme-repository.ts';
import type { AcmeDirectory } from './acme-views.ts';
import { AcmeProblem } from './problems.ts';

/** How long clients should wait before asking again (draft-ietf-acme-ari section 4.2). */
export const RENEWAL_INFO_RETRY_AFTER_SECONDS = 6 * 3600;

/**
 * ACME Renewal Information (draft-ietf-acme-ari): the certID is
 * `base64url(AKI keyIdentifier) "." base64url(serial DER content)`. The suggested window opens
 * at two thirds of the certificate's lifetime and closes at three quarters; a revoked
 * certificate gets a window that is already open.
 */
export function createRenewalInfo(deps: { repo: AcmeRepository; clock: Clock }) {
  return {
    async window(dir: AcmeDirectory, certId: string): Promise<{ suggestedWindow: { start: string; end: string } }> {
      const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(certId);
      if (!match) throw new AcmeProblem('malformed', 'the certID must be base64url(keyIdentifier).base64url(serial)');
      const aki = Buffer.from(match[1]!, 'base64url').toString('hex');
      const serial = Buffer.from(match[2]!, 'base64url').toString('hex').replace(/^(00)+(?=.)/, '');
      const cert = await deps.repo.findCertificateBySerial(dir.profile.id, serial);
      if (!cert || parseCertificate(cert.der).authorityKeyIdentifier !== aki) throw new AcmeProblem('notFound', `no certificate ${certId} was issued by this directory`);
      if (cert.status === 'revoked') {
        const now = deps.clock.now().getTime();
        return { suggestedWindow: { start: new Date(now - 3600_000).toISOString(), end: new Date(now).toISOString() } };
      }
      const from = cert.not_before.getTime();
      const life = cert.not_after.getTime() - from;
      return { suggestedWindow: { start: new Date(from + (life * 2) / 3).toISOString(), end: new Date(from + (life * 3) / 4).toISOString() } };
    },
  };
}

export type RenewalInfo = ReturnType<typeof createRenewalInfo>;
