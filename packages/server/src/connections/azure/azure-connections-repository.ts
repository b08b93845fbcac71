import { createHash } from 'node:crypto';
import type { Insertable, Kysely, Updateable } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { isUuid } from '../../repositories/cas-repository.ts';
import { azureDb, type AzureConnectionsTable, type AzureDb, type AzureOauthStatesTable, type OauthRequest } from './azure-tables.ts';

export const hashState = (state: string) => createHash('sha256').update(state).digest('base64url');

/** Azure connections and pending OAuth states (migration 0006-azure). All SQL of the Azure module. */
export function createAzureConnectionsRepository(database: Kysely<Database>) {
  const db = azureDb(database);
  const on = (trx: Kysely<Database> | undefined): AzureDb => (trx ? azureDb(trx) : db);
  return {
    /** By UUID or by unique name. */
    find: (idOrName: string, trx?: Kysely<Database>) =>
      on(trx).selectFrom('azure_connections').selectAll().where(isUuid(idOrName) ? 'id' : 'name', '=', idOrName).executeTakeFirst(),
    list: () => db.selectFrom('azure_connections').selectAll().orderBy('name').execute(),
    insert: (trx: Kysely<Database>, row: Insertable<AzureConnectionsTable>) =>
      azureDb(trx).insertInto('azure_connections').values(row).returningAll().executeTakeFirstOrThrow(),
    update: (trx: Kysely<Database> | undefined, id: string, patch: Updateable<AzureConnectionsTable>) =>
      on(trx).updateTable('azure_connections').set({ ...patch, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),
    /** Saves msal-node's cache without touching updated_at (it changes on every token refresh). */
    saveOauthCache: (id: string, sealed: string) =>
      db.updateTable('azure_connections').set({ oauth_cache_sealed: sealed }).where('id', '=', id).execute(),
    remove: (trx: Kysely<Database>, id: string) => azureDb(trx).deleteFrom('azure_connections').where('id', '=', id).executeTakeFirst(),
    /** Rotations whose time has come (enabled, due, or left half done by a crash). */
    dueRotations: (now: Date) =>
      db.selectFrom('azure_connections').select(['id', 'name']).where('rotation_enabled', '=', true).where('next_rotation_at', '<=', now).orderBy('next_rotation_at').execute(),

    /**
     * Claims a rotation until `leaseUntil`, in the same statement that checks no other run holds
     * it, so two instances (or the API and the job) never rotate one secret at once. A scheduled
     * run (`due`) also needs its time to have come; "rotate now" does not. The next time moves to
     * the end of the lease too: a run that crashes is taken up again by the schedule after it.
     */
    claimRotation: (id: string, now: Date, leaseUntil: Date, due = true) => {
      let claim = db.updateTable('azure_connections').set({ next_rotation_at: leaseUntil, rotation_claimed_until: leaseUntil })
        .where('id', '=', id).where('rotation_enabled', '=', true)
        .where((eb) => eb.or([eb('rotation_claimed_until', 'is', null), eb('rotation_claimed_until', '<=', now)]));
      if (due) claim = claim.where('next_rotation_at', '<=', now);
      return claim.returningAll().executeTakeFirst();
    },

    insertState: (row: Insertable<AzureOauthStatesTable>) => db.insertInto('azure_oauth_states').values(row).execute(),
    /**
     * Takes a state exactly once: the row is deleted in the same statement that reads it, so two
     * callbacks racing with one state cannot both succeed. Expired rows are swept on the way.
     */
    takeState: async (state: string, now: Date): Promise<{ userId: string; request: OauthRequest; codeVerifierSealed: string; stateHash: string; expired: boolean } | undefined> => {
      const stateHash = hashState(state);
      const row = await db.deleteFrom('azure_oauth_states').where('state_hash', '=', stateHash).returningAll().executeTakeFirst();
      await db.deleteFrom('azure_oauth_states').where('expires_at', '<', now).execute();
      if (!row) return undefined;
      return { userId: row.user_id, request: row.request, codeVerifierSealed: row.code_verifier_sealed, stateHash, expired: row.expires_at.getTime() <= now.getTime() };
    },
  };
}

export type AzureConnectionsRepository = ReturnType<typeof createAzureConnectionsRepository>;
