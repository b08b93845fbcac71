import type { Insertable, Kysely, Updateable } from 'kysely';
import type { ApplicationRole, ApplicationsTable, Database, PoliciesTable, ProfilesTable } from '../db/schema.ts';
import { isUuid } from './cas-repository.ts';
import { cachedRow, type CatalogCache } from './catalog-cache.ts';

/**
 * Policies, profiles, applications and their members: the issuance catalogue. With a cache, the
 * lookups the issuance path makes on every request (find*, hasApplicationProfile, memberRole) are
 * answered from memory while the catalogue is unchanged (catalog-cache.ts says how that is checked).
 */
export function createCatalogRepository(db: Kysely<Database>, cache?: CatalogCache) {
  return {
    /** The catalogue counter for a request's later lookups (CatalogCache.version); undefined without a cache. */
    catalogVersion: async (): Promise<string | undefined> => cache?.version(),
    /** `observedVersion`: the catalogue counter as the caller's request already read it (CatalogCache.get's `observed`). */
    findPolicy: (idOrName: string, observedVersion?: string) =>
      cachedRow(cache, `policy:${idOrName}`, () => db.selectFrom('policies').selectAll().where(isUuid(idOrName) ? 'id' : 'name', '=', idOrName).executeTakeFirst(), observedVersion),
    listPolicies: () => db.selectFrom('policies').selectAll().orderBy('name').execute(),
    insertPolicy: (trx: Kysely<Database>, row: Insertable<PoliciesTable>) => trx.insertInto('policies').values(row).returningAll().executeTakeFirstOrThrow(),
    updatePolicy: (trx: Kysely<Database>, id: string, patch: Updateable<PoliciesTable>) =>
      trx.updateTable('policies').set({ ...patch, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),

    findProfile: (idOrSlug: string, observedVersion?: string) =>
      cachedRow(cache, `profile:${idOrSlug}`, () => db.selectFrom('profiles').selectAll().where(isUuid(idOrSlug) ? 'id' : 'slug', '=', idOrSlug).executeTakeFirst(), observedVersion),
    listProfiles: () => db.selectFrom('profiles').selectAll().orderBy('slug').execute(),
    insertProfile: (trx: Kysely<Database>, row: Insertable<ProfilesTable>) => trx.insertInto('profiles').values(row).returningAll().executeTakeFirstOrThrow(),
    updateProfile: (trx: Kysely<Database>, id: string, patch: Updateable<ProfilesTable>) =>
      trx.updateTable('profiles').set({ ...patch, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),

    findApplication: (idOrName: string, observedVersion?: string) =>
      cachedRow(cache, `application:${idOrName}`, () => db.selectFrom('applications').selectAll().where(isUuid(idOrName) ? 'id' : 'name', '=', idOrName).executeTakeFirst(), observedVersion),
    listApplications: (memberUserId?: string) => {
      let q = db.selectFrom('applications').selectAll('applications').orderBy('applications.name');
      if (memberUserId) q = q.innerJoin('application_members as m', 'm.application_id', 'applications.id').where('m.user_id', '=', memberUserId);
      return q.execute();
    },
    insertApplication: (trx: Kysely<Database>, row: Insertable<ApplicationsTable>) => trx.insertInto('applications').values(row).returningAll().executeTakeFirstOrThrow(),
    updateApplication: (trx: Kysely<Database>, id: string, patch: Updateable<ApplicationsTable>) =>
      trx.updateTable('applications').set({ ...patch, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),

    applicationProfiles: (applicationId: string) =>
      db.selectFrom('application_profiles').innerJoin('profiles', 'profiles.id', 'application_profiles.profile_id')
        .selectAll('profiles').where('application_profiles.application_id', '=', applicationId).orderBy('profiles.slug').execute(),
    setApplicationProfiles: async (trx: Kysely<Database>, applicationId: string, profileIds: string[]) => {
      await trx.deleteFrom('application_profiles').where('application_id', '=', applicationId).execute();
      if (profileIds.length) await trx.insertInto('application_profiles').values(profileIds.map((profile_id) => ({ application_id: applicationId, profile_id }))).execute();
    },
    hasApplicationProfile: async (applicationId: string, profileId: string, observedVersion?: string) => {
      const load = async () => Boolean(await db.selectFrom('application_profiles').select('profile_id').where('application_id', '=', applicationId).where('profile_id', '=', profileId).executeTakeFirst());
      return cache ? cache.get(`link:${applicationId}:${profileId}`, load, observedVersion) : load();
    },

    /**
     * An ACME directory's profile (by slug) and the first application (by name) it is attached to,
     * whose members its accounts issue for: every ACME request needs both, read here under one
     * catalogue version check instead of two (none when the caller already read the counter,
     * see CatalogCache.get's `observed`).
     */
    profileWithFirstApplication: async (slug: string, observedVersion?: string) => {
      const load = async () => {
        const profile = await db.selectFrom('profiles').selectAll().where('slug', '=', slug).executeTakeFirst();
        const application = profile && await db.selectFrom('application_profiles').innerJoin('applications', 'applications.id', 'application_profiles.application_id')
          .selectAll('applications').where('application_profiles.profile_id', '=', profile.id).orderBy('applications.name').limit(1).executeTakeFirst();
        return { profile, application };
      };
      const found = cache ? await cache.get(`profile-directory:${slug}`, load, observedVersion) : await load();
      return { profile: found.profile && { ...found.profile }, application: found.application && { ...found.application } };
    },

    members: (applicationId: string) =>
      db.selectFrom('application_members').innerJoin('users', 'users.id', 'application_members.user_id')
        .select(['users.id as userId', 'users.username', 'application_members.role']).where('application_id', '=', applicationId).orderBy('users.username').execute(),
    memberRole: async (applicationId: string, userId: string, observedVersion?: string): Promise<ApplicationRole | undefined> => {
      const load = async () => (await db.selectFrom('application_members').select('role').where('application_id', '=', applicationId).where('user_id', '=', userId).executeTakeFirst())?.role;
      return cache ? cache.get(`member:${applicationId}:${userId}`, load, observedVersion) : load();
    },
    memberApplicationIds: async (userId: string) =>
      (await db.selectFrom('application_members').select('application_id').where('user_id', '=', userId).execute()).map((r) => r.application_id),
    upsertMember: (trx: Kysely<Database>, applicationId: string, userId: string, role: ApplicationRole) =>
      trx.insertInto('application_members').values({ application_id: applicationId, user_id: userId, role })
        .onConflict((oc) => oc.columns(['application_id', 'user_id']).doUpdateSet({ role })).execute(),
    removeMember: (trx: Kysely<Database>, applicationId: string, userId: string) =>
      trx.deleteFrom('application_members').where('application_id', '=', applicationId).where('user_id', '=', userId).executeTakeFirst(),
  };
}

export type CatalogRepository = ReturnType<typeof createCatalogRepository>;
