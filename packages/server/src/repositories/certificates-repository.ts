import { sql, type Kysely } from 'kysely';
import type { CertificatesTable, Database, NewCertificate } from '../db/schema.ts';

export interface CertificateFilter {
  applicationIds: string[] | null;
  caId?: string;
  applicationId?: string;
  profileId?: string;
  status?: 'active' | 'revoked' | 'expired';
  expiringBefore?: Date;
  /** Case-insensitive substring of subject or any SAN. */
  text?: string;
  serialHex?: string;
  now: Date;
}

export function createCertificatesRepository(db: Kysely<Database>) {
  return {
    insert: (trx: Kysely<Database>, row: NewCertificate) => trx.insertInto('certificates').values(row).returningAll().executeTakeFirstOrThrow(),
    find: (id: string) => db.selectFrom('certificates').selectAll().where('id', '=', id).executeTakeFirst(),
    findBySerial: (caId: string, serialHex: string) =>
      db.selectFrom('certificates').select(['id', 'status', 'revoked_at', 'revocation_reason', 'not_after']).where('ca_id', '=', caId).where('serial_hex', '=', serialHex).executeTakeFirst(),
    /**
     * Keyset pagination on (created_at, id) with an index per common filter, so page N costs
     * the same as page 1 at a million rows (no OFFSET).
     */
    list: (f: CertificateFilter, limit: number, after?: { createdAt: Date; id: string }) => {
      let q = db.selectFrom('certificates')
        .select(['id', 'ca_id', 'order_id', 'application_id', 'profile_id', 'requester_id', 'serial_hex', 'subject', 'sans', 'key_algorithm', 'fingerprint_sha256', 'not_before', 'not_after', 'status', 'revoked_at', 'revocation_reason', 'created_at', 'renewed_from_id', 'ca_revocation_pending'])
        .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit);
      if (f.applicationIds) q = q.where('application_id', 'in', f.applicationIds.length ? f.applicationIds : ['00000000-0000-0000-0000-000000000000']);
      if (f.caId) q = q.where('ca_id', '=', f.caId);
      if (f.applicationId) q = q.where('application_id', '=', f.applicationId);
      if (f.profileId) q = q.where('profile_id', '=', f.profileId);
      if (f.status === 'revoked') q = q.where('status', '=', 'revoked');
      if (f.status === 'active') q = q.where('status', '=', 'active').where('not_after', '>', f.now);
      if (f.status === 'expired') q = q.where('status', '=', 'active').where('not_after', '<=', f.now);
      if (f.expiringBefore) q = q.where('not_after', '<', f.expiringBefore);
      if (f.serialHex) q = q.where('serial_hex', '=', f.serialHex);
      if (f.text) q = q.where('search_text', 'like', `%${f.text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      if (after) q = q.where(sql<boolean>`(created_at, id) < (${after.createdAt}, ${after.id}::uuid)`);
      return q.execute();
    },
    revoke: (trx: Kysely<Database>, id: string, at: Date, reason: string) =>
      trx.updateTable('certificates').set({ status: 'revoked', revoked_at: at, revocation_reason: reason })
        .where('id', '=', id).where('status', '=', 'active').returningAll().executeTakeFirst(),
    revokedForCa: (trx: Kysely<Database>, caId: string) =>
      trx.selectFrom('certificates').select(['serial_hex', 'revoked_at', 'revocation_reason'])
        .where('ca_id', '=', caId).where('status', '=', 'revoked').execute(),
  };
}

export type CertificatesRepository = ReturnType<typeof createCertificatesRepository>;
export type CertificateListRow = Awaited<ReturnType<CertificatesRepository['list']>>[number];
export type { CertificatesTable };
