import { createHash, createPublicKey } from 'node:crypto';
import { REVOCATION_REASON_CODES, parseCertificate, PkiError, type RevocationReason } from '@certbridge/pki';
import { z } from 'zod';
import type { Principal } from '../../auth/principal.ts';
import type { CertificateService } from '../../certificates/certificate-service.ts';
import type { AcmeRepository } from './acme-repository.ts';
import type { AccountRow } from './acme-tables.ts';
import type { AcmeDirectory } from './acme-views.ts';
import { jwkThumbprint } from './jws.ts';
import { AcmeProblem } from './problems.ts';

export const revokePayload = z.object({ certificate: z.string().regex(/^[A-Za-z0-9_-]+$/), reason: z.number().int().optional() }).passthrough();

const REASON_BY_CODE = new Map<number, RevocationReason>(Object.entries(REVOCATION_REASON_CODES).map(([k, v]) => [v, k as RevocationReason]));
/** RFC 8555 section 7.6 refers to RFC 5280 reasons; certificateHold and removeFromCRL make no sense here. */
const ACME_REASONS = new Set([0, 1, 3, 4, 5, 9]);

/** The actor of the audit row: revocations are made by an ACME account, not a user. */
const acmePrincipal = (who: string): Principal => ({ userId: '00000000-0000-0000-0000-000000000000', username: `acme:${who}`, role: 'admin', via: 'system' });

/**
 * revokeCert (section 7.6): authorised by the account that ordered the certificate, by an account
 * holding valid authorizations for every name in it, or by the certificate's own key (jwk).
 */
export function createAcmeRevocation(deps: { repo: AcmeRepository; certificates: CertificateService }) {
  const { repo } = deps;
  return {
    async revoke(dir: AcmeDirectory, signer: { account?: AccountRow; jwk?: Record<string, unknown> }, payload: z.infer<typeof revokePayload>): Promise<void> {
      const der = Buffer.from(payload.certificate, 'base64url');
      let info;
      try {
        info = parseCertificate(der);
      } catch (err) {
        if (err instanceof PkiError) throw new AcmeProblem('malformed', `the certificate cannot be read: ${err.message}`, { cause: err });
        throw err;
      }
      const reasonCode = payload.reason ?? 0;
      const reason = REASON_BY_CODE.get(reasonCode);
      if (!reason || !ACME_REASONS.has(reasonCode)) throw new AcmeProblem('badRevocationReason', `revocation reason ${reasonCode} is not accepted (use 0, 1, 3, 4, 5 or 9)`);
      const cert = await repo.findCertificateByFingerprint(createHash('sha256').update(der).digest('hex'));
      if (!cert || cert.profile_id !== dir.profile.id) throw new AcmeProblem('unauthorized', 'this certificate was not issued by this ACME directory');
      if (cert.status === 'revoked') throw new AcmeProblem('alreadyRevoked', `certificate ${info.serialHex} is already revoked`);
      let who: string;
      if (signer.jwk) {
        const certJwk = createPublicKey({ key: Buffer.from(info.spkiDer), format: 'der', type: 'spki' }).export({ format: 'jwk' });
        if ((await jwkThumbprint(certJwk as Record<string, unknown>)) !== (await jwkThumbprint(signer.jwk))) {
          throw new AcmeProblem('unauthorized', 'the JWS key is not the key of this certificate');
        }
        who = `certificate-key:${info.serialHex}`;
      } else {
        const account = signer.account!;
        const ordered = await repo.findOrderByCertificate(cert.id);
        if (ordered?.account_id !== account.id) {
          for (const san of info.sans) {
            const value = san.value.toLowerCase().replace(/^\*\./, '');
            if ((await repo.validAuthorizationsFor(account.id, value)).length === 0) {
              throw new AcmeProblem('unauthorized', `account ${account.id} neither ordered this certificate nor holds an authorization for ${san.value}`);
            }
          }
        }
        who = `account:${account.id}`;
      }
      await deps.certificates.revoke(acmePrincipal(who), cert.id, reason);
    },
  };
}

export type AcmeRevocation = ReturnType<typeof createAcmeRevocation>;
