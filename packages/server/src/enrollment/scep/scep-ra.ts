import { randomUUID, type KeyObject } from 'node:crypto';
import type { ColumnType, Kysely } from 'kysely';
import { importPrivateKey, parseCertificate, verifyCertificateSignature } from '@certbridge/pki';
import { INTERMEDIATE_CA_NAME } from '../../bootstrap.ts';
import type { Clock } from '../../clock.ts';
import type { Sealer } from '../../crypto/sealer.ts';
import type { CaRow, Database } from '../../db/schema.ts';
import type { CasRepository } from '../../repositories/cas-repository.ts';
import type { EnrollmentEndpoints, Endpoint } from '../settings/endpoints.ts';

/** An RA certificate retired by a rotation (migration 0009), its key still opening envelopes until `usable_until`. */
export type ScepRetiredRasTable = {
  id: string;
  settings_id: string;
  certificate_der: Uint8Array;
  key_sealed: string;
  retired_at: ColumnType<Date, Date | undefined, never>;
  usable_until: Date;
};
export type ScepRaTables = { scep_retired_ras: ScepRetiredRasTable };

export interface RaKey { certificateDer: Uint8Array; privateKey: KeyObject }

/** The sealing context of a retired RA key: bound to its own row, not to the settings row it left. */
export const retiredRaContext = (id: string): string => `scep-ra-retired:${id}`;

const toDer = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));
const caChainOf = (ca: CaRow): Uint8Array[] => (ca.certificate_der ? [ca.certificate_der, ...ca.chain.map(toDer)] : []);

function uniqueCerts(certs: Uint8Array[]): Uint8Array[] {
  const seen = new Set<string>();
  return certs.filter((c) => {
    const k = Buffer.from(c).toString('base64');
    return seen.has(k) ? false : (seen.add(k), true);
  });
}

/**
 * The RA side of a SCEP endpoint: which keys may open an incoming envelope (the current RA, then
 * retired RAs inside their grace period), and what GetCACert hands out. The RA of an ADCS
 * profile is issued by the Certbridge Intermediate CA (ra-certificate.ts), not by the ADCS CA,
 * so GetCACert carries both chains: clients verify the RA's signature with the first and the
 * issued certificates with the second (RFC 8894 section 4.2.1.2).
 */
export function createScepRas(deps: { db: Kysely<Database>; sealer: Sealer; clock: Clock; cas: CasRepository; endpoints: EnrollmentEndpoints }) {
  const db = deps.db.withTables<ScepRaTables>();
  const keys = new Map<string, KeyObject>();
  const keyOf = (id: string, sealed: string) => {
    let key = keys.get(sealed);
    if (!key) keys.set(sealed, (key = importPrivateKey(deps.sealer.open(sealed, retiredRaContext(id)))));
    return key;
  };

  /** The CA (profile CA or the Certbridge Intermediate) whose key signed this RA certificate, with its issuers. */
  async function raIssuerChain(ep: Endpoint, raDer: Uint8Array): Promise<Uint8Array[]> {
    const ra = parseCertificate(raDer);
    for (const ref of [ep.profile.ca_id, INTERMEDIATE_CA_NAME]) {
      const ca = await deps.cas.find(ref);
      if (!ca?.certificate_der) continue;
      const info = parseCertificate(ca.certificate_der);
      if (info.subjectText === ra.issuerText && verifyCertificateSignature(raDer, info.spkiDer)) return caChainOf(ca);
    }
    return [];
  }

  return {
    current: (ep: Endpoint): RaKey => deps.endpoints.ra(ep),

    /** Keys that may open an envelope now: the current RA first, then retired RAs still in their grace period. */
    async decryptionKeys(ep: Endpoint): Promise<RaKey[]> {
      const retired = await db.selectFrom('scep_retired_ras').selectAll().where('settings_id', '=', ep.settings.id)
        .where('usable_until', '>', deps.clock.now()).orderBy('retired_at', 'desc').execute();
      return [deps.endpoints.ra(ep), ...retired.map((r) => ({ certificateDer: r.certificate_der, privateKey: keyOf(r.id, r.key_sealed) }))];
    },

    /** GetCACert: the RA certificate, the chain that issued it, then the profile CA chain (no duplicates). */
    async caCerts(ep: Endpoint): Promise<Uint8Array[]> {
      const ra = deps.endpoints.ra(ep).certificateDer;
      return uniqueCerts([ra, ...(await raIssuerChain(ep, ra)), ...(await deps.endpoints.caChain(ep))]);
    },

    /** Keeps a replaced RA (inside the caller's transaction) so in-flight envelopes to it still open until `usableUntil`. */
    async retire(trx: Kysely<Database>, settingsId: string, ra: { certificateDer: Uint8Array; keyPkcs8: Uint8Array }, usableUntil: Date): Promise<string> {
      const id = randomUUID();
      await trx.withTables<ScepRaTables>().insertInto('scep_retired_ras').values({
        id, settings_id: settingsId, certificate_der: ra.certificateDer, key_sealed: deps.sealer.seal(ra.keyPkcs8, retiredRaContext(id)), usable_until: usableUntil,
      }).execute();
      return id;
    },
  };
}

export type ScepRas = ReturnType<typeof createScepRas>;
