export type Role = 'admin' | 'operator' | 'requester' | 'auditor';
export const ROLES: readonly Role[] = ['admin', 'operator', 'requester', 'auditor'];

/** Who is calling: resolved once per request from a bearer token or a session cookie. */
export interface Principal {
  userId: string;
  username: string;
  role: Role;
  via: 'token' | 'session' | 'system';
  tokenId?: string;
  sessionId?: string;
}

/** The actor recorded in the audit log for background work and the CLI. */
export const SYSTEM_PRINCIPAL: Principal = { userId: '00000000-0000-0000-0000-000000000000', username: 'system', role: 'admin', via: 'system' };
