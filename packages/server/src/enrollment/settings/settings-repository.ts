import type { Insertable, Kysely, Updateable } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { EnrollmentSettingsTable, EnrollmentTables } from './tables.ts';

/** SQL for the EST/SCEP enrollment settings, one-time challenges and SCEP transactions. */
export function createEnrollmentRepository(base: Kysely<Database>) {
  const db = base.withTables<EnrollmentTables>();
  const on = (trx: Kysely<Database>) => trx.withTables<EnrollmentTables>();
  return {
    findByProfile: (profileId: string) => db.selectFrom('enrollment_settings').selectAll().where('profile_id', '=', profileId).executeTakeFirst(),
    findEstDefault: () => db.selectFrom('enrollment_settings').selectAll().where('est_default', '=', true).executeTakeFirst(),
    insert: (trx: Kysely<Database>, row: Insertable<EnrollmentSettingsTable>) => on(trx).insertInto('enrollment_settings').values(row).returningAll().executeTakeFirstOrThrow(),
    update: (trx: Kysely<Database>, id: string, patch: Updateable<EnrollmentSettingsTable>) =>
      on(trx).updateTable('enrollment_settings').set({ ...patch, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),
    clearEstDefault: (trx: Kysely<Database>, exceptId: string) =>
      on(trx).updateTable('enrollment_settings').set({ est_default: false }).where('est_default', '=', true).where('id', '!=', exceptId).execute(),

    insertChallenge: (trx: Kysely<Database>, row: { id: string; settings_id: string; challenge_hash: string; expires_at: Date; created_by: string | null }) =>
      on(trx).insertInto('scep_challenges').values(row).execute(),
    /** Marks an unused, unexpired challenge used; true when this call consumed it (once only, even under races). */
    consumeChallenge: async (settingsId: string, hash: string, now: Date) => {
      const res = await db.updateTable('scep_challenges').set({ used_at: now })
        .where('settings_id', '=', settingsId).where('challenge_hash', '=', hash).where('used_at', 'is', null).where('expires_at', '>', now)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },

    findTransaction: (settingsId: string, transactionId: string) =>
      db.selectFrom('scep_transactions').selectAll().where('settings_id', '=', settingsId).where('transaction_id', '=', transactionId).executeTakeFirst(),
    /** Binds a transactionID to its newest request and order. */
    saveTransaction: (row: { settings_id: string; transaction_id: string; request_sha256: string; order_id: string }) =>
      db.insertInto('scep_transactions').values(row)
        .onConflict((oc) => oc.columns(['settings_id', 'transaction_id']).doUpdateSet({ request_sha256: row.request_sha256, order_id: row.order_id, created_at: new Date() })).execute(),
    /** The newest EST order of this profile whose PKCS#10 is byte-identical (RFC 7030 section 4.2.3 retries). */
    findOrderByCsr: (profileId: string, csrDer: Uint8Array) =>
      db.selectFrom('orders').selectAll().where('profile_id', '=', profileId).where('protocol', '=', 'est').where('csr_der', '=', csrDer)
        .where('status', 'in', ['pending', 'issued']).orderBy('created_at', 'desc').limit(1).executeTakeFirst(),
  };
}

export type EnrollmentRepository = ReturnType<typeof createEnrollmentRepository>;
