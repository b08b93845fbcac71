import type { ApplicationRow } from '../db/schema.ts';
import { forbidden, notFound } from '../errors.ts';
import type { CatalogRepository } from '../repositories/catalog-repository.ts';
import type { Principal } from './principal.ts';
import { APPLICATION_ABILITIES, GLOBAL_EQUIVALENT, can, type ApplicationAbility } from './rbac.ts';

/**
 * Application-scoped authorisation. A caller who may not even read an application gets 404
 * (its existence is not disclosed); one who may read but not act gets 403.
 */
export function createApplicationAccess(catalog: CatalogRepository) {
  async function allows(principal: Principal, applicationId: string, ability: ApplicationAbility, observedVersion?: string): Promise<boolean> {
    if (can(principal, GLOBAL_EQUIVALENT[ability])) return true;
    const role = await catalog.memberRole(applicationId, principal.userId, observedVersion);
    return role !== undefined && APPLICATION_ABILITIES[role].has(ability);
  }

  return {
    allows,
    /**
     * The application, if `principal` may do `ability` in it. `observedVersion`: the catalogue
     * counter as the caller's request already read it (CatalogCache.get's `observed`).
     */
    async require(principal: Principal, idOrName: string, ability: ApplicationAbility, observedVersion?: string): Promise<ApplicationRow> {
      const app = await catalog.findApplication(idOrName, observedVersion);
      if (!app || !(await allows(principal, app.id, 'read', observedVersion))) throw notFound('application', idOrName);
      if (ability !== 'read' && !(await allows(principal, app.id, ability, observedVersion))) throw forbidden(`your role in application ${app.name} does not allow ${ability}`);
      return app;
    },
    /** Application ids the caller may read, or null for "all" (global readers). */
    async readableApplicationIds(principal: Principal): Promise<string[] | null> {
      if (can(principal, 'certificates:read-all')) return null;
      return catalog.memberApplicationIds(principal.userId);
    },
  };
}

export type ApplicationAccess = ReturnType<typeof createApplicationAccess>;
