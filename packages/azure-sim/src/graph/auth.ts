/**
 * Bearer token checks and the permission rules of the emulated Graph. App-only callers need an
 * application permission (`roles`); `Application.ReadWrite.OwnedBy` reaches only applications
 * the caller's service principal owns. Delegated callers need the matching scope (`scp`).
 */
import type { IncomingMessage } from 'node:http';
import type { AppRecord, Directory } from '../directory.ts';
import { bearerToken } from '../http.ts';
import { GRAPH_RESOURCE, type AccessTokenClaims, type TokenService } from '../tokens.ts';
import { graphErrors } from './errors.ts';

const READ_ALL = ['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const WRITE_ALL = ['Application.ReadWrite.All', 'Directory.ReadWrite.All'];
const DELEGATED_READ = [...READ_ALL, 'Directory.AccessAsUser.All'];
const DELEGATED_WRITE = [...WRITE_ALL, 'Directory.AccessAsUser.All'];
const OWNED_BY = 'Application.ReadWrite.OwnedBy';

export function authenticate(req: IncomingMessage, tokens: TokenService, dir: Directory): AccessTokenClaims {
  const token = bearerToken(req);
  if (!token) throw graphErrors.tokenEmpty();
  if (!token.includes('.')) throw graphErrors.tokenMalformed();
  const check = tokens.verify(token, GRAPH_RESOURCE);
  if (!check.ok) {
    if (check.reason === 'expired') throw graphErrors.tokenExpired();
    if (check.reason === 'audience') throw graphErrors.tokenAudience();
    throw graphErrors.tokenInvalid();
  }
  if (!dir.tenants.has(check.claims.tid)) throw graphErrors.tokenTenant();
  return check.claims;
}

function owns(caller: AccessTokenClaims, app: AppRecord): boolean {
  return app.owners.has(caller.appid.toLowerCase()) || app.owners.has(caller.oid.toLowerCase());
}

/** May the caller see this application at all (list results are filtered by this)? */
export function canRead(caller: AccessTokenClaims, app: AppRecord): boolean {
  if (caller.tid !== app.tenantId) return false;
  if (caller.idtyp === 'user') return caller.scp.some((s) => DELEGATED_READ.includes(s)) || owns(caller, app);
  return caller.roles.some((r) => READ_ALL.includes(r)) || (caller.roles.includes(OWNED_BY) && owns(caller, app));
}

export function canWrite(caller: AccessTokenClaims, app: AppRecord): boolean {
  if (caller.tid !== app.tenantId) return false;
  if (caller.idtyp === 'user') return caller.scp.some((s) => DELEGATED_WRITE.includes(s)) || (owns(caller, app) && caller.scp.length > 0);
  return caller.roles.some((r) => WRITE_ALL.includes(r)) || (caller.roles.includes(OWNED_BY) && owns(caller, app));
}

/** Whether the caller holds any permission that lists applications (else 403 rather than an empty list). */
export function canList(caller: AccessTokenClaims): boolean {
  if (caller.idtyp === 'user') return caller.scp.length > 0;
  return caller.roles.some((r) => READ_ALL.includes(r) || r === OWNED_BY);
}
