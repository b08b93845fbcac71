import { timingSafeEqual, createHash, type KeyObject } from 'node:crypto';
import { importPrivateKey, parseCertificate, PkiError, verifyCertificateSignature, type CertificateInfo } from '@certbridge/pki';
import type { Clock } from '../../clock.ts';
import type { Sealer } from '../../crypto/sealer.ts';
import type { ApplicationRow, ProfileRow } from '../../db/schema.ts';
import { AppError, notFound } from '../../errors.ts';
import type { CasRepository } from '../../repositories/cas-repository.ts';
import type { CatalogRepository } from '../../repositories/catalog-repository.ts';
import type { CertificatesRepository } from '../../repositories/certificates-repository.ts';
import { challengeHash } from './settings-service.ts';
import type { EnrollmentRepository } from './settings-repository.ts';
import { sealContext, type EnrollmentSettingsRow } from './tables.ts';

/** A resolved EST or SCEP endpoint: its settings, the profile it serves and the owning application. */
export interface Endpoint {
  settings: EnrollmentSettingsRow;
  profile: ProfileRow;
  application: ApplicationRow;
}

export type ClientCertificateCheck =
  | { ok: true; info: CertificateInfo; certificateId: string | null }
  | { ok: false; reason: string };

const sameSecret = (a: string, b: string): boolean => {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
};

/**
 * What the EST and SCEP wire code needs from the settings: which endpoint a label names, and
 * the checks of its credentials (Basic secret, challenge, TLS client certificate) and RA key.
 */
export function createEnrollmentEndpoints(deps: { repo: EnrollmentRepository; catalog: CatalogRepository; cas: CasRepository; certificates: CertificatesRepository; sealer: Sealer; clock: Clock }) {
  const { repo, sealer, clock } = deps;
  const raKeys = new Map<string, KeyObject>();

  return {
    /** The endpoint of a profile slug (or the EST default when no label is given); 404 when it is not enabled. */
    async resolve(protocol: 'est' | 'scep', slug: string | undefined): Promise<Endpoint> {
      const profile = slug === undefined ? undefined : await deps.catalog.findProfile(slug);
      const settings = slug === undefined ? await repo.findEstDefault() : profile ? await repo.findByProfile(profile.id) : undefined;
      const enabled = protocol === 'est' ? settings?.est_enabled : settings?.scep_enabled;
      if (!settings || !enabled) throw notFound(`${protocol.toUpperCase()} endpoint`, slug ?? '(default)');
      const [resolvedProfile, application] = await Promise.all([profile ?? deps.catalog.findProfile(settings.profile_id), deps.catalog.findApplication(settings.application_id)]);
      if (!resolvedProfile || !application) throw notFound(`${protocol.toUpperCase()} endpoint`, slug ?? '(default)');
      return { settings, profile: resolvedProfile, application };
    },

    checkBasic(ep: Endpoint, username: string, password: string): boolean {
      const { est_username: expected, est_secret_sealed: sealed } = ep.settings;
      if (!sealed || expected === null) return false;
      const secret = sealer.openText(sealed, sealContext.estSecret(ep.settings.id));
      return sameSecret(username, expected) && sameSecret(password, secret);
    },

    /** The static challenge compared in constant time, or a dynamic one consumed (valid once, until it expires). */
    async checkChallenge(ep: Endpoint, challenge: string | undefined): Promise<boolean> {
      if (challenge === undefined || challenge.length === 0) return false;
      if (ep.settings.scep_challenge === 'dynamic') return repo.consumeChallenge(ep.settings.id, challengeHash(challenge), clock.now());
      const sealed = ep.settings.scep_static_sealed;
      return sealed !== null && sameSecret(challenge, sealer.openText(sealed, sealContext.scepChallenge(ep.settings.id)));
    },

    ra(ep: Endpoint): { certificateDer: Uint8Array; privateKey: KeyObject } {
      const { ra_certificate_der: der, ra_key_sealed: sealed, id } = ep.settings;
      if (!der || !sealed) throw new AppError('NOT_SUPPORTED', `SCEP endpoint ${ep.profile.slug} has no RA certificate`);
      // Keyed by the sealed value: an RA rotation (scep/ra-rotation.ts) replaces it, and the cache must follow.
      let key = raKeys.get(sealed);
      if (!key) raKeys.set(sealed, (key = importPrivateKey(sealer.open(sealed, sealContext.raKey(id)))));
      return { certificateDer: der, privateKey: key };
    },

    /** The profile's CA certificate and its issuers (CA first). */
    async caChain(ep: Endpoint): Promise<Uint8Array[]> {
      const ca = await deps.cas.find(ep.profile.ca_id);
      if (!ca?.certificate_der) throw new AppError('CA_UNAVAILABLE', `the CA of profile ${ep.profile.slug} has no certificate`);
      return [ca.certificate_der, ...ca.chain.map((b) => new Uint8Array(Buffer.from(b, 'base64')))];
    },

    /**
     * A certificate presented by a client (TLS client certificate, SCEP RenewalReq signer): issued
     * by the profile's CA (signature checked here, since the TLS layer does not), within its
     * validity, and not revoked in Certbridge.
     */
    async checkClientCertificate(ep: Endpoint, der: Uint8Array): Promise<ClientCertificateCheck> {
      let info: CertificateInfo;
      try {
        info = parseCertificate(der);
      } catch (err) {
        if (err instanceof PkiError) return { ok: false, reason: 'the client certificate cannot be read' };
        throw err;
      }
      const ca = await deps.cas.find(ep.profile.ca_id);
      if (!ca?.certificate_der) return { ok: false, reason: 'the profile CA has no certificate' };
      const caInfo = parseCertificate(ca.certificate_der);
      if (info.issuerText !== caInfo.subjectText || !verifyCertificateSignature(der, caInfo.spkiDer)) return { ok: false, reason: 'the client certificate was not issued by the CA of this profile' };
      const now = clock.now();
      if (info.notAfter <= now || info.notBefore > now) return { ok: false, reason: 'the client certificate is expired or not yet valid' };
      const known = await deps.certificates.findBySerial(ca.id, info.serialHex);
      if (known?.status === 'revoked') return { ok: false, reason: 'the client certificate is revoked' };
      return { ok: true, info, certificateId: known?.id ?? null };
    },
  };
}

export type EnrollmentEndpoints = ReturnType<typeof createEnrollmentEndpoints>;
