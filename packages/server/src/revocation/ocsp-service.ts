import { issuerHashes, ocspErrorResponse, parseOcspRequest, PkiError, signOcspResponse, type OcspCertStatus, type RevocationReason } from '@certbridge/pki';
import type { CaKeyStore } from '../cas/ca-keys.ts';
import type { Clock } from '../clock.ts';
import type { CasRepository } from '../repositories/cas-repository.ts';
import type { CertificatesRepository } from '../repositories/certificates-repository.ts';
import { ocspSigningMode, type OcspResponderStore } from './ocsp-responder.ts';

/** How long a relying party may cache a good/revoked answer (RFC 6960 nextUpdate). */
export const OCSP_VALIDITY_MS = 3600_000;

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

/**
 * OCSP responder per internal CA (RFC 6960). Answers are signed by the CA key itself (section 2.2)
 * or, when the CA's `ocspSigning` setting is `delegated`, by its delegated responder certificate,
 * which is then sent along in the response. A request naming another issuer,
 * or a serial this CA never issued, gets `unknown`. Protocol errors get an unsigned
 * OCSPResponse with the matching responseStatus, never an HTTP error.
 */
export function createOcspService(deps: { cas: CasRepository; certificates: CertificatesRepository; keys: CaKeyStore; responders: OcspResponderStore; clock: Clock }) {
  return {
    async respond(caIdOrName: string, requestDer: Uint8Array): Promise<Uint8Array> {
      let request;
      try {
        request = parseOcspRequest(requestDer);
      } catch (err) {
        if (err instanceof PkiError) return ocspErrorResponse('malformedRequest');
        throw err;
      }
      const ca = await deps.cas.find(caIdOrName);
      if (!ca || ca.type !== 'internal' || !ca.certificate_der) return ocspErrorResponse('unauthorized');
      const delegated = ocspSigningMode(ca) === 'delegated';
      const signer = delegated ? await deps.responders.signer(ca) : await deps.keys.signer(ca);
      const now = deps.clock.now();
      const responses = [];
      for (const certId of request.certIds) {
        const hashes = issuerHashes(ca.certificate_der, certId.hashAlgorithmOid);
        let status: OcspCertStatus = { status: 'unknown' };
        if (hashes && equalBytes(hashes.nameHash, certId.issuerNameHash) && equalBytes(hashes.keyHash, certId.issuerKeyHash)) {
          const cert = await deps.certificates.findBySerial(ca.id, certId.serialHex);
          if (cert?.status === 'revoked') status = { status: 'revoked', revokedAt: cert.revoked_at!, reason: (cert.revocation_reason ?? 'unspecified') as RevocationReason };
          else if (cert) status = { status: 'good' };
        }
        responses.push({ certId, status, thisUpdate: now, nextUpdate: new Date(now.getTime() + OCSP_VALIDITY_MS) });
      }
      return signOcspResponse({
        responder: signer, producedAt: now, responses, ...(request.nonce ? { nonce: request.nonce } : {}),
        ...(delegated ? { responderChain: [signer.certificateDer] } : {}),
      });
    },
  };
}

export type OcspService = ReturnType<typeof createOcspService>;
