import type { ApplicationRole } from '../db/schema.ts';
import { forbidden } from '../errors.ts';
import type { Principal, Role } from './principal.ts';

/**
 * Global permissions per role. `requester` has none: it acts only inside applications it is a
 * member of, with its application role (see `APPLICATION_ABILITIES`). Documented in README "Roles".
 */
export type Permission =
  | 'users:manage'
  | 'tokens:manage-all'
  | 'cas:read'
  | 'cas:manage'
  | 'policies:read'
  | 'policies:manage'
  | 'profiles:read'
  | 'profiles:manage'
  | 'applications:read-all'
  | 'applications:manage'
  | 'certificates:read-all'
  | 'certificates:issue-any'
  | 'certificates:revoke-any'
  | 'audit:read'
  | 'connections:read'
  | 'connections:manage'
  | 'syncs:read'
  | 'syncs:manage';

const READ_ALL: Permission[] = ['cas:read', 'policies:read', 'profiles:read', 'applications:read-all', 'certificates:read-all', 'connections:read', 'syncs:read'];

export const ROLE_PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  admin: new Set<Permission>([
    ...READ_ALL, 'users:manage', 'tokens:manage-all', 'cas:manage', 'policies:manage', 'profiles:manage',
    'applications:manage', 'certificates:issue-any', 'certificates:revoke-any', 'audit:read', 'connections:manage',
    'syncs:manage',
  ]),
  operator: new Set<Permission>([
    ...READ_ALL, 'policies:manage', 'profiles:manage', 'applications:manage', 'certificates:issue-any', 'certificates:revoke-any',
    // Syncs export keys to a vault; operators may already export any server-generated key.
    'syncs:manage',
  ]),
  auditor: new Set<Permission>([...READ_ALL, 'audit:read']),
  requester: new Set<Permission>(),
};

export function can(principal: Principal, permission: Permission): boolean {
  return ROLE_PERMISSIONS[principal.role].has(permission);
}

export function requirePermission(principal: Principal, permission: Permission): void {
  if (!can(principal, permission)) throw forbidden(`the ${principal.role} role may not do this (needs ${permission})`);
}

/** What each application role may do inside its application. */
export type ApplicationAbility = 'read' | 'issue' | 'revoke-own' | 'revoke-any' | 'manage-members';

export const APPLICATION_ABILITIES: Record<ApplicationRole, ReadonlySet<ApplicationAbility>> = {
  viewer: new Set<ApplicationAbility>(['read']),
  requester: new Set<ApplicationAbility>(['read', 'issue', 'revoke-own']),
  owner: new Set<ApplicationAbility>(['read', 'issue', 'revoke-own', 'revoke-any', 'manage-members']),
};

/** The global permission that stands in for an application ability. */
export const GLOBAL_EQUIVALENT: Record<ApplicationAbility, Permission> = {
  read: 'certificates:read-all',
  issue: 'certificates:issue-any',
  'revoke-own': 'certificates:revoke-any',
  'revoke-any': 'certificates:revoke-any',
  'manage-members': 'applications:manage',
};
