import { randomSerial, signCertificate } from '@certbridge/pki';
import type { CaRow } from '../../db/schema.ts';
import type { CaBackend, CaBackendFactory, IssueRequest, IssueResult } from '../types.ts';
import { NotSupportedError } from '../types.ts';
import { pkiUrls, type CaKeyStore } from '../../cas/ca-keys.ts';

export interface InternalBackendDeps {
  keys: CaKeyStore;
  pkiUrl: string;
}

/**
 * Certbridge's own CAs: signs synchronously with the unsealed CA key, so every request is
 * `issued` (or throws when the CA cannot sign, e.g. it is disabled or expired).
 *
 * A class rather than closures: a backend is made for every issuance, and the tsx loader names
 * each closure it creates (Object.defineProperty), which costs microseconds apiece.
 */
class InternalBackend implements CaBackend {
  readonly local = true;

  constructor(private readonly ca: CaRow, private readonly deps: InternalBackendDeps) {}

  async issue(req: IssueRequest): Promise<IssueResult> {
    const { ca, deps } = this;
    const signer = await deps.keys.signer(ca);
    const urls = pkiUrls(deps.pkiUrl, ca.id);
    const der = signCertificate(
      {
        serialNumber: randomSerial(),
        subject: req.subject,
        spkiDer: req.spkiDer,
        sans: req.sans,
        notBefore: req.notBefore,
        // A certificate never outlives its issuer (RFC 5280 6.1.3 would reject the tail anyway).
        notAfter: ca.not_after && ca.not_after < req.notAfter ? ca.not_after : req.notAfter,
        keyUsages: req.keyUsages,
        extendedKeyUsages: req.extendedKeyUsages,
        aia: { caIssuers: [urls.caIssuers], ocsp: [urls.ocsp] },
        crlDistributionPoints: [urls.crl],
      },
      signer,
    );
    return { status: 'issued', certificateDer: der, chainDer: await this.chain() };
  }

  renew(req: IssueRequest): Promise<IssueResult> {
    return this.issue(req);
  }

  // Revocation of an internal CA's certificate is the database record; the CRL and OCSP
  // responder read it. Nothing to tell the CA itself.
  async revoke(): Promise<void> {}

  async chain(): Promise<Uint8Array[]> {
    const { ca } = this;
    if (!ca.certificate_der) throw new Error(`CA ${ca.name} has no certificate`);
    return [ca.certificate_der, ...ca.chain.map((b64) => Buffer.from(b64, 'base64'))];
  }

  async poll(): Promise<never> {
    throw new NotSupportedError('pending requests', 'internal');
  }
}

export const createInternalBackend: CaBackendFactory<InternalBackendDeps> = (ca: CaRow, deps): CaBackend => new InternalBackend(ca, deps);
