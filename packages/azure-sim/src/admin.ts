/**
 * The in-process admin API tests use to arrange the emulated directory, inject faults, move
 * the emulator's clock and read what clients did. Everything here acts at once: only
 * passwords added with `propagate: true` (and those added through Graph) wait for the
 * propagation delay.
 */
import { randomUUID } from 'node:crypto';
import { certificateCredential, type AppRecord, type ConsentDecision, type Directory, type UserRecord } from './directory.ts';
import type { CallRecord, FaultInjector, FaultSpec, Service } from './faults.ts';
import type { TokenService } from './tokens.ts';

export interface TenantInfo { id: string; domain: string; displayName: string }
export interface AppInfo { tenantId: string; appId: string; objectId: string; servicePrincipalId: string; displayName: string }
export interface PasswordInfo { keyId: string; secret: string; hint: string; displayName: string | null; startDateTime: string; endDateTime: string }
export interface KeyCredentialInfo { keyId: string; thumbprint: string; x5t: string; x5tS256: string }
export interface UserInfo { tenantId: string; objectId: string; userPrincipalName: string; displayName: string }

export interface AppView extends AppInfo {
  redirectUris: string[];
  graphRoles: string[];
  owners: string[];
  /** Secrets are never shown again after creation, as in Graph; `usableAt` tells when propagation ends. */
  passwordCredentials: { keyId: string; hint: string; displayName: string | null; startDateTime: string; endDateTime: string; usableAt: string }[];
  keyCredentials: { keyId: string; thumbprint: string; displayName: string; endDateTime: string }[];
}

export interface AddAppOptions {
  appId?: string;
  objectId?: string;
  displayName?: string;
  redirectUris?: string[];
  /** Microsoft Graph application permissions with admin consent, e.g. `Application.ReadWrite.OwnedBy`. */
  graphRoles?: string[];
  /** appIds of apps (their service principals) or object ids of users owning this app. */
  owners?: string[];
}

export class DirectoryAdmin {
  constructor(
    private readonly dir: Directory,
    private readonly tokens: TokenService,
    private readonly faultInjector: FaultInjector,
    private readonly clockOffset: { ms: number },
  ) {}

  addTenant(opts: { id?: string; domain?: string; displayName?: string } = {}): TenantInfo {
    const id = (opts.id ?? randomUUID()).toLowerCase();
    const domain = opts.domain ?? `tenant${id.slice(0, 8)}.onmicrosoft.com`;
    const t = { id, domain, displayName: opts.displayName ?? domain.split('.')[0] };
    this.dir.tenants.set(id, t);
    return { ...t };
  }

  addApp(tenantId: string, opts: AddAppOptions = {}): AppInfo {
    if (!this.dir.tenants.has(tenantId)) throw new Error(`unknown tenant ${tenantId}`);
    const appId = (opts.appId ?? randomUUID()).toLowerCase();
    if (this.dir.apps.has(appId)) throw new Error(`app ${appId} exists`);
    const app: AppRecord = {
      tenantId, appId, objectId: (opts.objectId ?? randomUUID()).toLowerCase(), servicePrincipalId: randomUUID(),
      displayName: opts.displayName ?? `app-${appId.slice(0, 8)}`, createdDateTime: new Date(this.dir.clock.now()),
      redirectUris: [...(opts.redirectUris ?? [])], passwordCredentials: [], keyCredentials: [],
      graphRoles: new Set(opts.graphRoles ?? []), owners: new Set((opts.owners ?? []).map((o) => o.toLowerCase())),
    };
    this.dir.apps.set(appId, app);
    return this.appInfo(app);
  }

  addPassword(appId: string, opts: { secret?: string; keyId?: string; displayName?: string; endDateTime?: Date | string; propagate?: boolean } = {}): PasswordInfo {
    const app = this.mustApp(appId);
    const c = this.dir.addPassword(app, {
      secret: opts.secret, keyId: opts.keyId, displayName: opts.displayName ?? null,
      endDateTime: opts.endDateTime === undefined ? undefined : new Date(opts.endDateTime), propagate: opts.propagate ?? false,
    });
    return { keyId: c.keyId, secret: c.secret, hint: c.hint, displayName: c.displayName, startDateTime: c.startDateTime.toISOString(), endDateTime: c.endDateTime.toISOString() };
  }

  addCertificate(appId: string, certPem: string, opts: { keyId?: string; displayName?: string } = {}): KeyCredentialInfo {
    const k = certificateCredential(certPem, opts.keyId, opts.displayName);
    this.mustApp(appId).keyCredentials.push(k);
    return { keyId: k.keyId, thumbprint: k.thumbprint, x5t: k.x5t, x5tS256: k.x5tS256 };
  }

  setGraphRoles(appId: string, roles: string[]): void {
    this.mustApp(appId).graphRoles = new Set(roles);
  }

  addOwner(appId: string, owner: string): void {
    this.mustApp(appId).owners.add(owner.toLowerCase());
  }

  app(appId: string): AppView | undefined {
    const a = this.dir.apps.get(appId.toLowerCase());
    if (!a) return undefined;
    return {
      ...this.appInfo(a),
      redirectUris: [...a.redirectUris], graphRoles: [...a.graphRoles], owners: [...a.owners],
      passwordCredentials: a.passwordCredentials.map((c) => ({
        keyId: c.keyId, hint: c.hint, displayName: c.displayName, startDateTime: c.startDateTime.toISOString(), endDateTime: c.endDateTime.toISOString(), usableAt: new Date(c.usableAt).toISOString(),
      })),
      keyCredentials: a.keyCredentials.map((k) => ({ keyId: k.keyId, thumbprint: k.thumbprint, displayName: k.displayName, endDateTime: k.endDateTime.toISOString() })),
    };
  }

  addUser(tenantId: string, opts: { userPrincipalName: string; displayName?: string; objectId?: string; consent?: ConsentDecision }): UserInfo {
    if (!this.dir.tenants.has(tenantId)) throw new Error(`unknown tenant ${tenantId}`);
    const u: UserRecord = {
      tenantId, objectId: (opts.objectId ?? randomUUID()).toLowerCase(), userPrincipalName: opts.userPrincipalName,
      displayName: opts.displayName ?? opts.userPrincipalName.split('@')[0], consent: opts.consent ?? 'grant', refreshTokensValidFrom: 0,
    };
    this.dir.users.set(u.objectId, u);
    return { tenantId, objectId: u.objectId, userPrincipalName: u.userPrincipalName, displayName: u.displayName };
  }

  /** What the user answers on the next consent prompts. */
  setConsent(tenantId: string, user: string, decision: ConsentDecision): void {
    this.mustUser(tenantId, user).consent = decision;
  }

  /** Revokes every refresh token issued to the user so far (AADSTS50173 on use). */
  revokeSessions(tenantId: string, user: string): void {
    this.mustUser(tenantId, user).refreshTokensValidFrom = this.dir.clock.now() + 1;
  }

  /** Passwords added through Graph `addPassword` authenticate only this many ms later. */
  setPropagationDelay(ms: number): void {
    this.dir.propagationDelayMs = ms;
  }

  /** Moves the emulator's clock forward (token, code, secret and refresh token lifetimes). */
  advanceTime(ms: number): void {
    this.clockOffset.ms += ms;
  }

  now(): Date {
    return new Date(this.dir.clock.now());
  }

  /** Mints an access token directly, e.g. an expired one (`lifetimeSeconds: -600`) or one for another audience. */
  mintAccessToken(o: { tenantId: string; appId: string; resource: string; roles?: string[]; scp?: string[]; userObjectId?: string; lifetimeSeconds?: number }): string {
    const app = this.dir.apps.get(o.appId.toLowerCase());
    const user = o.userObjectId ? this.dir.users.get(o.userObjectId.toLowerCase()) : undefined;
    return this.tokens.issue({
      tenantId: o.tenantId, appId: o.appId, resource: o.resource, oid: user?.objectId ?? app?.servicePrincipalId ?? randomUUID(),
      roles: o.roles, scp: o.scp, upn: user?.userPrincipalName, lifetimeSeconds: o.lifetimeSeconds ?? 3599,
    }).token;
  }

  injectFault(spec: FaultSpec): void {
    this.faultInjector.inject(spec);
  }

  clearFaults(): void {
    this.faultInjector.clear();
  }

  calls(service?: Service): CallRecord[] {
    return this.faultInjector.calls(service);
  }

  clearCalls(): void {
    this.faultInjector.clearCalls();
  }

  private appInfo(a: AppRecord): AppInfo {
    return { tenantId: a.tenantId, appId: a.appId, objectId: a.objectId, servicePrincipalId: a.servicePrincipalId, displayName: a.displayName };
  }

  private mustApp(appId: string): AppRecord {
    const a = this.dir.apps.get(appId.toLowerCase());
    if (!a) throw new Error(`unknown app ${appId}`);
    return a;
  }

  private mustUser(tenantId: string, user: string): UserRecord {
    const u = this.dir.user(tenantId, user);
    if (!u) throw new Error(`unknown user ${user}`);
    return u;
  }
}
