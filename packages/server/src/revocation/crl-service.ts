import { signCrl, type RevocationReason } from '@certbridge/pki';
import { sql, type Kysely } from 'kysely';
import type { CaKeyStore } from '../cas/ca-keys.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/schema.ts';
import { AppError, notFound } from '../errors.ts';
import type { CasRepository } from '../repositories/cas-repository.ts';
import type { CertificatesRepository } from '../repositories/certificates-repository.ts';

/** How long a CRL is valid, and how early before nextUpdate the background job replaces it. */
export const CRL_VALIDITY_MS = 24 * 3600_000;
export const CRL_REFRESH_MARGIN_MS = 6 * 3600_000;

/**
 * CRLs per internal CA (RFC 5280 section 5). The CRL number lives in the database and is bumped
 * under a row lock, so two server instances never issue the same number twice.
 */
export function createCrlService(deps: { db: Kysely<Database>; cas: CasRepository; certificates: CertificatesRepository; keys: CaKeyStore; clock: Clock }) {
  const { db, cas, certificates, keys, clock } = deps;

  async function regenerate(caId: string): Promise<Uint8Array> {
    const ca = await cas.find(caId);
    if (!ca) throw notFound('CA', caId);
    if (ca.type !== 'internal') throw new AppError('NOT_SUPPORTED', `CA ${ca.name} publishes its own CRL`);
    const signer = await keys.signer(ca);
    return db.transaction().execute(async (trx) => {
      // Serialise generations per CA across processes; the row may not exist yet.
      await sql`select pg_advisory_xact_lock(hashtext(${`crl:${ca.id}`}))`.execute(trx);
      const current = await trx.selectFrom('crls').select('crl_number').where('ca_id', '=', ca.id).executeTakeFirst();
      const crlNumber = BigInt(current?.crl_number ?? '0') + 1n;
      const revoked = await certificates.revokedForCa(trx, ca.id);
      const thisUpdate = clock.now();
      const nextUpdate = new Date(thisUpdate.getTime() + CRL_VALIDITY_MS);
      const der = signCrl({
        issuer: signer, crlNumber, thisUpdate, nextUpdate,
        revoked: revoked.map((r) => ({ serialHex: r.serial_hex, revokedAt: r.revoked_at!, reason: (r.revocation_reason ?? 'unspecified') as RevocationReason })),
      });
      await trx.insertInto('crls').values({ ca_id: ca.id, crl_number: crlNumber.toString(), der, this_update: thisUpdate, next_update: nextUpdate })
        .onConflict((oc) => oc.column('ca_id').doUpdateSet({ crl_number: crlNumber.toString(), der, this_update: thisUpdate, next_update: nextUpdate }))
        .execute();
      return der;
    });
  }

  return {
    regenerate,
    /** The current CRL, generated on demand when none exists or the stored one has expired. */
    async current(caIdOrName: string): Promise<Uint8Array> {
      const ca = await cas.find(caIdOrName);
      if (!ca) throw notFound('CA', caIdOrName);
      const stored = await db.selectFrom('crls').select(['der', 'next_update']).where('ca_id', '=', ca.id).executeTakeFirst();
      if (stored && stored.next_update > clock.now()) return stored.der;
      return regenerate(ca.id);
    },
    /** Regenerates every internal CA's CRL that is missing or within the refresh margin. */
    async refreshDue(): Promise<number> {
      const due = new Date(clock.now().getTime() + CRL_REFRESH_MARGIN_MS);
      const cas = await db.selectFrom('cas').leftJoin('crls', 'crls.ca_id', 'cas.id').select('cas.id')
        .where('cas.type', '=', 'internal').where('cas.status', '=', 'active')
        .where((eb) => eb.or([eb('crls.next_update', 'is', null), eb('crls.next_update', '<', due)])).execute();
      for (const { id } of cas) await regenerate(id);
      return cas.length;
    },
  };
}

export type CrlService = ReturnType<typeof createCrlService>;
