/**
 * The emulated Microsoft Entra directory: tenants, app registrations (with their service
 * principals, password and certificate credentials, granted Microsoft Graph application
 * permissions and owners) and users. One instance is shared by Entra, Graph and Key Vault.
 */
import { createHash, randomBytes, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';

export interface Clock {
  /** Milliseconds since the epoch, as the emulator sees it (the admin API can move it forward). */
  now(): number;
}

export interface TenantRecord {
  id: string;
  /** The tenant's initial domain, e.g. `contoso.onmicrosoft.com`; token requests may name it instead of the id. */
  domain: string;
  displayName: string;
}

export interface PasswordCredentialRecord {
  keyId: string;
  displayName: string | null;
  secret: string;
  /** Graph shows the first three characters of the secret as `hint`. */
  hint: string;
  startDateTime: Date;
  endDateTime: Date;
  /** Entra replicates new credentials for a while; token requests with this secret fail before then. */
  usableAt: number;
}

export interface KeyCredentialRecord {
  keyId: string;
  displayName: string;
  certDer: Buffer;
  publicKey: KeyObject;
  /** Upper-case hex SHA-1 of the DER: Graph's `customKeyIdentifier`. */
  thumbprint: string;
  /** base64url SHA-1 and SHA-256 of the DER: the JOSE `x5t` and `x5t#S256` header values. */
  x5t: string;
  x5tS256: string;
  startDateTime: Date;
  endDateTime: Date;
}

export interface AppRecord {
  tenantId: string;
  appId: string;
  /** The application object's id (Graph `/applications/{id}`). */
  objectId: string;
  /** The service principal's object id: the `oid` of app-only tokens. */
  servicePrincipalId: string;
  displayName: string;
  createdDateTime: Date;
  redirectUris: string[];
  passwordCredentials: PasswordCredentialRecord[];
  keyCredentials: KeyCredentialRecord[];
  /** Microsoft Graph application permissions granted with admin consent (e.g. `Application.ReadWrite.All`). */
  graphRoles: Set<string>;
  /** appIds of service principals and object ids of users that own this application. */
  owners: Set<string>;
}

export type ConsentDecision = 'grant' | 'deny';

export interface UserRecord {
  tenantId: string;
  objectId: string;
  userPrincipalName: string;
  displayName: string;
  /** What the user answers on the consent prompt of the authorize endpoint. */
  consent: ConsentDecision;
  /** Refresh tokens issued before this instant are revoked (Entra's "revoke sessions"). */
  refreshTokensValidFrom: number;
}

const SECRET_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789~._-';

/** A client secret shaped like Entra's: 40 characters with `Q~` at positions 4–5. */
export function newClientSecret(): string {
  const bytes = randomBytes(38);
  const chars = [...bytes].map((b) => SECRET_ALPHABET[b % SECRET_ALPHABET.length]);
  return `${chars.slice(0, 3).join('')}8Q~${chars.slice(3, 37).join('')}`;
}

export function certificateCredential(certPem: string, keyId: string = randomUUID(), displayName?: string): KeyCredentialRecord {
  const cert = new X509Certificate(certPem);
  const der = cert.raw;
  return {
    keyId,
    displayName: displayName ?? cert.subject.replace(/\n/g, ', '),
    certDer: der,
    publicKey: cert.publicKey,
    thumbprint: createHash('sha1').update(der).digest('hex').toUpperCase(),
    x5t: createHash('sha1').update(der).digest('base64url'),
    x5tS256: createHash('sha256').update(der).digest('base64url'),
    startDateTime: new Date(cert.validFrom),
    endDateTime: new Date(cert.validTo),
  };
}

export class Directory {
  readonly tenants = new Map<string, TenantRecord>();
  readonly apps = new Map<string, AppRecord>();
  readonly users = new Map<string, UserRecord>();
  /** Milliseconds a password credential added through Graph needs before it authenticates. */
  propagationDelayMs = 0;

  constructor(readonly clock: Clock) {}

  /** A tenant by id or initial domain (case-insensitive, as Entra matches them). */
  tenant(idOrDomain: string): TenantRecord | undefined {
    const key = idOrDomain.toLowerCase();
    for (const t of this.tenants.values()) if (t.id === key || t.domain.toLowerCase() === key) return t;
    return undefined;
  }

  /** An app registration by appId within one tenant (single-tenant apps, as Certbridge uses them). */
  app(tenantId: string, appId: string): AppRecord | undefined {
    const app = this.apps.get(appId.toLowerCase());
    return app && app.tenantId === tenantId ? app : undefined;
  }

  appByObjectId(tenantId: string, objectId: string): AppRecord | undefined {
    for (const a of this.apps.values()) if (a.tenantId === tenantId && a.objectId === objectId.toLowerCase()) return a;
    return undefined;
  }

  user(tenantId: string, upnOrId: string): UserRecord | undefined {
    const key = upnOrId.toLowerCase();
    for (const u of this.users.values()) {
      if (u.tenantId === tenantId && (u.objectId === key || u.userPrincipalName.toLowerCase() === key)) return u;
    }
    return undefined;
  }

  usersOf(tenantId: string): UserRecord[] {
    return [...this.users.values()].filter((u) => u.tenantId === tenantId);
  }

  /** Adds a password credential; `propagate` applies the propagation delay (Graph-created secrets). */
  addPassword(app: AppRecord, opts: { displayName?: string | null; endDateTime?: Date; secret?: string; keyId?: string; propagate: boolean }): PasswordCredentialRecord {
    const now = this.clock.now();
    const secret = opts.secret ?? newClientSecret();
    const cred: PasswordCredentialRecord = {
      keyId: opts.keyId ?? randomUUID(),
      displayName: opts.displayName ?? null,
      secret,
      hint: secret.slice(0, 3),
      startDateTime: new Date(now),
      // Entra's default lifetime for a new client secret is two years.
      endDateTime: opts.endDateTime ?? new Date(now + 730 * 86_400_000),
      usableAt: opts.propagate ? now + this.propagationDelayMs : now,
    };
    app.passwordCredentials.push(cred);
    return cred;
  }
}
