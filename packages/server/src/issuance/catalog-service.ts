import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { appendAudit } from '../audit/audit-log.ts';
import type { ApplicationAccess } from '../auth/application-access.ts';
import type { Principal } from '../auth/principal.ts';
import { requirePermission } from '../auth/rbac.ts';
import type { Clock } from '../clock.ts';
import type { ApplicationRole, CaRow, Database, PolicyRow, ProfileRow } from '../db/schema.ts';
import { AppError, conflict, notFound } from '../errors.ts';
import { isUuid, type CasRepository } from '../repositories/cas-repository.ts';
import { parsedOncePerObject } from '../repositories/catalog-cache.ts';
import type { CatalogRepository } from '../repositories/catalog-repository.ts';
import type { UsersRepository } from '../repositories/users-repository.ts';
import { policyRulesSchema, profileDefaultsSchema, type PolicyRules, type ProfileDefaults } from './policy-rules.ts';

export interface PolicyInput { name: string; description?: string; rules: unknown }
export interface ProfileInput { slug: string; name?: string; ca: string; policy: string; defaults?: unknown; template?: string | null; pendingLifetimeDays?: number }
export interface ApplicationInput { name: string; description?: string; profiles?: string[] }

function parseOrThrow<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: (string | number)[]; message: string }[] } } }, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new AppError('VALIDATION_FAILED', `invalid ${what}`, { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
  }
  return parsed.data;
}

/** Validated policy rules with the schema's defaults filled in; frozen (shared). Throws VALIDATION_FAILED. */
export const parsePolicyRules = parsedOncePerObject((value): PolicyRules => parseOrThrow(policyRulesSchema, value ?? {}, 'policy rules'));
/** Validated profile defaults with the schema's defaults filled in; frozen (shared). Throws VALIDATION_FAILED. */
export const parseProfileDefaults = parsedOncePerObject((value): ProfileDefaults => parseOrThrow(profileDefaultsSchema, value ?? {}, 'profile defaults'));

/** Policies, profiles, applications and memberships, each change audited in its transaction. */
export function createCatalogService(deps: {
  db: Kysely<Database>; catalog: CatalogRepository; cas: CasRepository; users: UsersRepository; access: ApplicationAccess; clock: Clock;
  /** Checks a profile's CA template (ADCS: offered by a server of the CA); throws VALIDATION_FAILED. */
  templateCheck?: (ca: CaRow, template: string | null | undefined) => Promise<void>;
}) {
  const { db, catalog, cas, users, access, clock } = deps;
  const audited = <T>(actor: Principal, action: string, resourceType: string, fn: (trx: Kysely<Database>) => Promise<T & { id: string }>, details: Record<string, unknown> = {}) =>
    db.transaction().execute(async (trx) => {
      const result = await fn(trx);
      await appendAudit(trx, { actor, action, resourceType, resourceId: result.id, outcome: 'success', details }, clock);
      return result;
    });

  async function requirePolicy(idOrName: string): Promise<PolicyRow> {
    const row = await catalog.findPolicy(idOrName);
    if (!row) throw notFound('policy', idOrName);
    return row;
  }
  async function requireProfile(idOrSlug: string, observedVersion?: string): Promise<ProfileRow> {
    const row = await catalog.findProfile(idOrSlug, observedVersion);
    if (!row) throw notFound('profile', idOrSlug);
    return row;
  }

  return {
    requireProfile,
    /**
     * The profile an issuance request names, with the catalogue counter it was read under: given
     * to the issuance core as IssueContext.catalogVersion, it spares the core a version check of
     * its own (CatalogCache.version). Concurrent lookups of the request share the counter's read;
     * `observedVersion` (the counter as the request's bearer-token statement read it) spares it.
     */
    async requireProfileForIssue(idOrSlug: string, observedVersion?: string): Promise<{ profile: ProfileRow; catalogVersion: string | undefined }> {
      const catalogVersion = observedVersion ?? await catalog.catalogVersion();
      return { profile: await requireProfile(idOrSlug, catalogVersion), catalogVersion };
    },
    listPolicies: (actor: Principal) => (requirePermission(actor, 'policies:read'), catalog.listPolicies()),
    getPolicy: (actor: Principal, id: string) => (requirePermission(actor, 'policies:read'), requirePolicy(id)),
    async createPolicy(actor: Principal, input: PolicyInput) {
      requirePermission(actor, 'policies:manage');
      const rules = parsePolicyRules(input.rules);
      if (await catalog.findPolicy(input.name)) throw conflict(`a policy named ${input.name} already exists`);
      return audited(actor, 'policy.create', 'policy', (trx) => catalog.insertPolicy(trx, { id: randomUUID(), name: input.name, description: input.description ?? '', rules: JSON.stringify(rules) }), { name: input.name });
    },
    async updatePolicy(actor: Principal, id: string, input: Partial<PolicyInput>) {
      requirePermission(actor, 'policies:manage');
      const existing = await requirePolicy(id);
      const rules = input.rules === undefined ? undefined : parsePolicyRules(input.rules);
      return audited(actor, 'policy.update', 'policy', (trx) => catalog.updatePolicy(trx, existing.id, {
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(rules ? { rules: JSON.stringify(rules) } : {}),
      }));
    },

    listProfiles: (actor: Principal) => (requirePermission(actor, 'profiles:read'), catalog.listProfiles()),
    getProfile: (actor: Principal, id: string) => (requirePermission(actor, 'profiles:read'), requireProfile(id)),
    async createProfile(actor: Principal, input: ProfileInput) {
      requirePermission(actor, 'profiles:manage');
      const defaults = parseProfileDefaults(input.defaults);
      const ca = await cas.find(input.ca);
      if (!ca) throw notFound('CA', input.ca);
      const policy = await requirePolicy(input.policy);
      if (await catalog.findProfile(input.slug)) throw conflict(`a profile with slug ${input.slug} already exists`);
      await deps.templateCheck?.(ca, input.template);
      return audited(actor, 'profile.create', 'profile', (trx) => catalog.insertProfile(trx, {
        id: randomUUID(), slug: input.slug, name: input.name ?? input.slug, ca_id: ca.id, policy_id: policy.id, defaults: JSON.stringify(defaults),
        template: input.template ?? null, ...(input.pendingLifetimeDays ? { pending_lifetime_days: input.pendingLifetimeDays } : {}),
      }), { slug: input.slug, template: input.template ?? null });
    },
    async updateProfile(actor: Principal, id: string, input: Partial<ProfileInput>) {
      requirePermission(actor, 'profiles:manage');
      const existing = await requireProfile(id);
      const defaults = input.defaults === undefined ? undefined : parseProfileDefaults(input.defaults);
      const ca = input.ca === undefined ? undefined : await cas.find(input.ca);
      if (input.ca !== undefined && !ca) throw notFound('CA', input.ca);
      const policy = input.policy === undefined ? undefined : await requirePolicy(input.policy);
      if (ca || input.template !== undefined) {
        const effectiveCa = ca ?? (await cas.find(existing.ca_id));
        if (effectiveCa) await deps.templateCheck?.(effectiveCa, input.template === undefined ? existing.template : input.template);
      }
      return audited(actor, 'profile.update', 'profile', (trx) => catalog.updateProfile(trx, existing.id, {
        ...(input.template !== undefined ? { template: input.template, broken_reason: null } : {}),
        ...(input.pendingLifetimeDays !== undefined ? { pending_lifetime_days: input.pendingLifetimeDays } : {}),
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(ca ? { ca_id: ca.id } : {}),
        ...(policy ? { policy_id: policy.id } : {}),
        ...(defaults ? { defaults: JSON.stringify(defaults) } : {}),
      }));
    },

    async listApplications(actor: Principal) {
      const ids = await access.readableApplicationIds(actor);
      return catalog.listApplications(ids === null ? undefined : actor.userId);
    },
    async getApplication(actor: Principal, id: string) {
      const app = await access.require(actor, id, 'read');
      return { ...app, profiles: await catalog.applicationProfiles(app.id), members: await catalog.members(app.id) };
    },
    async createApplication(actor: Principal, input: ApplicationInput) {
      requirePermission(actor, 'applications:manage');
      if (await catalog.findApplication(input.name)) throw conflict(`an application named ${input.name} already exists`);
      const profiles = await Promise.all((input.profiles ?? []).map((slug) => requireProfile(slug)));
      return audited(actor, 'application.create', 'application', async (trx) => {
        const app = await catalog.insertApplication(trx, { id: randomUUID(), name: input.name, description: input.description ?? '' });
        await catalog.setApplicationProfiles(trx, app.id, profiles.map((p) => p.id));
        return app;
      }, { name: input.name, profiles: profiles.map((p) => p.slug) });
    },
    async updateApplication(actor: Principal, id: string, input: Partial<ApplicationInput>) {
      requirePermission(actor, 'applications:manage');
      const app = await access.require(actor, id, 'read');
      const profiles = input.profiles === undefined ? undefined : await Promise.all(input.profiles.map((slug) => requireProfile(slug)));
      return audited(actor, 'application.update', 'application', async (trx) => {
        if (profiles) await catalog.setApplicationProfiles(trx, app.id, profiles.map((p) => p.id));
        return catalog.updateApplication(trx, app.id, input.description !== undefined ? { description: input.description } : {});
      }, { profiles: profiles?.map((p) => p.slug) });
    },
    async setMember(actor: Principal, appId: string, input: { user: string; role: ApplicationRole }) {
      const app = await access.require(actor, appId, 'manage-members');
      const user = isUuid(input.user) ? await users.findById(input.user) : await users.findByUsername(input.user);
      if (!user) throw notFound('user', input.user);
      await audited(actor, 'application.member.set', 'application', async (trx) => (await catalog.upsertMember(trx, app.id, user.id, input.role), app), { userId: user.id, role: input.role });
      return catalog.members(app.id);
    },
    async removeMember(actor: Principal, appId: string, userId: string) {
      const app = await access.require(actor, appId, 'manage-members');
      await audited(actor, 'application.member.remove', 'application', async (trx) => {
        const res = await catalog.removeMember(trx, app.id, userId);
        if (!res.numDeletedRows) throw notFound('member', userId);
        return app;
      }, { userId });
    },
  };
}

export type CatalogService = ReturnType<typeof createCatalogService>;
