/**
 * Graph v1.0 application resources: the JSON Graph returns for an application and its
 * credentials, `$filter`/`$select` as far as Certbridge uses them, and the addPassword /
 * removePassword actions.
 */
import type { AppRecord, Directory, PasswordCredentialRecord } from '../directory.ts';
import type { AccessTokenClaims } from '../tokens.ts';
import { canList, canRead, canWrite } from './auth.ts';
import { graphErrors } from './errors.ts';

const CONTEXT = 'https://graph.microsoft.com/v1.0/$metadata';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function passwordJson(c: PasswordCredentialRecord, secretText: string | null): Record<string, unknown> {
  return {
    customKeyIdentifier: null, displayName: c.displayName, endDateTime: c.endDateTime.toISOString(), hint: c.hint,
    keyId: c.keyId, secretText, startDateTime: c.startDateTime.toISOString(),
  };
}

export function applicationJson(dir: Directory, a: AppRecord): Record<string, unknown> {
  return {
    id: a.objectId, deletedDateTime: null, appId: a.appId, applicationTemplateId: null, createdDateTime: a.createdDateTime.toISOString(),
    description: null, displayName: a.displayName, identifierUris: [], publisherDomain: dir.tenants.get(a.tenantId)?.domain ?? null,
    signInAudience: 'AzureADMyOrg', tags: [], requiredResourceAccess: [],
    keyCredentials: a.keyCredentials.map((k) => ({
      customKeyIdentifier: k.thumbprint, displayName: k.displayName, endDateTime: k.endDateTime.toISOString(), key: null,
      keyId: k.keyId, startDateTime: k.startDateTime.toISOString(), type: 'AsymmetricX509Cert', usage: 'Verify',
    })),
    passwordCredentials: a.passwordCredentials.map((c) => passwordJson(c, null)),
    web: { homePageUrl: null, logoutUrl: null, redirectUris: [...a.redirectUris], implicitGrantSettings: { enableAccessTokenIssuance: false, enableIdTokenIssuance: false } },
  };
}

export function select(obj: Record<string, unknown>, sel: string | null): Record<string, unknown> {
  if (!sel) return obj;
  const keep = sel.split(',').map((s) => s.trim()).filter(Boolean);
  return Object.fromEntries(Object.entries(obj).filter(([k]) => keep.includes(k) || k === 'id'));
}

/** `appId eq '…'` or `displayName eq '…'` (quotes doubled inside, OData style). */
function parseFilter(filter: string): { property: 'appId' | 'displayName'; value: string } {
  const m = /^\s*(appId|displayName)\s+eq\s+'((?:[^']|'')*)'\s*$/.exec(filter);
  if (!m) throw graphErrors.unsupportedFilter();
  return { property: m[1] as 'appId' | 'displayName', value: m[2].replace(/''/g, "'") };
}

export function listApplications(dir: Directory, caller: AccessTokenClaims, q: URLSearchParams): Record<string, unknown> {
  if (!canList(caller)) throw graphErrors.denied();
  const filter = q.get('$filter');
  const f = filter === null ? undefined : parseFilter(filter);
  const apps = [...dir.apps.values()].filter((a) => canRead(caller, a) && (!f || (f.property === 'appId' ? a.appId === f.value.toLowerCase() : a.displayName === f.value)));
  return { '@odata.context': `${CONTEXT}#applications`, value: apps.map((a) => select(applicationJson(dir, a), q.get('$select'))) };
}

/** Finds by object id or by the `appId` alternate key; 404 for other tenants' apps as for missing ones. */
export function findApplication(dir: Directory, caller: AccessTokenClaims, key: { objectId?: string; appId?: string }): AppRecord {
  const app = key.appId !== undefined ? dir.app(caller.tid, key.appId) : dir.appByObjectId(caller.tid, key.objectId ?? '');
  if (!app) throw graphErrors.notFound(key.appId ?? key.objectId ?? '');
  return app;
}

export function getApplication(dir: Directory, caller: AccessTokenClaims, app: AppRecord, q: URLSearchParams): Record<string, unknown> {
  if (!canRead(caller, app)) throw graphErrors.denied();
  return { '@odata.context': `${CONTEXT}#applications/$entity`, ...select(applicationJson(dir, app), q.get('$select')) };
}

export function addPassword(dir: Directory, caller: AccessTokenClaims, app: AppRecord, body: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!canWrite(caller, app)) throw graphErrors.denied();
  const pc = body?.passwordCredential ?? {};
  if (pc === null || typeof pc !== 'object' || Array.isArray(pc)) throw graphErrors.badValue('passwordCredential', 'Application');
  const p = pc as Record<string, unknown>;
  if (p.displayName !== undefined && p.displayName !== null && typeof p.displayName !== 'string') throw graphErrors.badValue('displayName', 'PasswordCredential');
  let end: Date | undefined;
  if (p.endDateTime !== undefined && p.endDateTime !== null) {
    end = typeof p.endDateTime === 'string' ? new Date(p.endDateTime) : new Date(NaN);
    if (Number.isNaN(end.getTime()) || end.getTime() <= dir.clock.now()) throw graphErrors.badValue('endDateTime', 'PasswordCredential');
  }
  const cred = dir.addPassword(app, { displayName: (p.displayName as string | undefined) ?? null, endDateTime: end, propagate: true });
  return { '@odata.context': `${CONTEXT}#microsoft.graph.passwordCredential`, ...passwordJson(cred, cred.secret) };
}

export function removePassword(caller: AccessTokenClaims, app: AppRecord, body: Record<string, unknown> | undefined): void {
  if (!canWrite(caller, app)) throw graphErrors.denied();
  const keyId = body?.keyId;
  if (typeof keyId !== 'string' || !GUID.test(keyId)) throw graphErrors.badValue('keyId', 'PasswordCredential');
  const i = app.passwordCredentials.findIndex((c) => c.keyId === keyId.toLowerCase());
  if (i < 0) throw graphErrors.badValue('keyId', 'PasswordCredential');
  app.passwordCredentials.splice(i, 1);
}

export function meJson(dir: Directory, caller: AccessTokenClaims): Record<string, unknown> {
  if (caller.idtyp !== 'user') throw graphErrors.meNeedsUser();
  const user = dir.users.get(caller.oid);
  if (!user) throw graphErrors.notFound(caller.oid);
  if (caller.scp.length === 0) throw graphErrors.denied();
  return {
    '@odata.context': `${CONTEXT}#users/$entity`, businessPhones: [], displayName: user.displayName, givenName: null, jobTitle: null,
    mail: user.userPrincipalName, mobilePhone: null, officeLocation: null, preferredLanguage: null, surname: null,
    userPrincipalName: user.userPrincipalName, id: user.objectId,
  };
}
