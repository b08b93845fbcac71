/**
 * One emulated vault's certificates: every import adds a version (32 hex characters), deletes
 * are soft (the certificate moves to deleted certificates for 90 days) until purged, and each
 * vault keeps access policies per principal (appId or object id).
 */
import { createHash, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import type { Clock } from '../directory.ts';
import { kvErrors } from './errors.ts';
import { defaultPolicy, mergePolicy, type Policy } from './policy.ts';

export const CERTIFICATE_PERMISSIONS = ['get', 'list', 'import', 'update', 'delete', 'purge', 'recover'] as const;
export type CertificatePermission = (typeof CERTIFICATE_PERMISSIONS)[number];

export interface CertVersion {
  version: string;
  certDer: Buffer;
  chainDer: Buffer[];
  x5t: string;
  enabled: boolean;
  nbf: number;
  exp: number;
  created: number;
  updated: number;
  tags: Record<string, string>;
}

export interface CertEntry {
  name: string;
  versions: CertVersion[];
  policy: Policy;
  policyCreated: number;
  policyUpdated: number;
  deleted?: { deletedDate: number; scheduledPurgeDate: number };
}

const NAME = /^[0-9a-zA-Z-]{1,127}$/;
const RETENTION_DAYS = 90;

export function checkName(name: string): void {
  if (!NAME.test(name)) throw kvErrors.badName(name);
}

/** Tags: at most 15, names up to 512 and values up to 256 characters, strings only. */
export function checkTags(tags: unknown): Record<string, string> {
  if (tags === null || typeof tags !== 'object' || Array.isArray(tags)) throw kvErrors.badBody('Property tags has invalid value.');
  const entries = Object.entries(tags as Record<string, unknown>);
  if (entries.length > 15) throw kvErrors.badBody('The number of tags exceeds the maximum of 15.');
  for (const [k, v] of entries) {
    if (typeof v !== 'string' || k.length > 512 || v.length > 256) throw kvErrors.badBody(`Tag ${k} has invalid value.`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

export class Vault {
  readonly certificates = new Map<string, CertEntry>();
  readonly accessPolicies = new Map<string, Set<CertificatePermission>>();
  url = '';

  constructor(
    readonly name: string,
    readonly tenantId: string,
    private readonly clock: Clock,
  ) {}

  /** The emulator's clock in Unix seconds, Key Vault's unit for dates. */
  seconds(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  /** An entry that exists and is not deleted; 404 otherwise. */
  live(name: string): CertEntry {
    checkName(name);
    const e = this.certificates.get(name.toLowerCase());
    if (!e || e.deleted) throw kvErrors.notFound(name);
    return e;
  }

  deleted(name: string): CertEntry {
    checkName(name);
    const e = this.certificates.get(name.toLowerCase());
    if (!e?.deleted) throw kvErrors.deletedNotFound(name);
    return e;
  }

  version(entry: CertEntry, version: string): CertVersion {
    if (version === '') return entry.versions[entry.versions.length - 1];
    const v = entry.versions.find((x) => x.version === version.toLowerCase());
    if (!v) throw kvErrors.notFound(`${entry.name}/${version}`);
    return v;
  }

  importVersion(name: string, material: { certificates: Buffer[]; privateKey: KeyObject }, contentType: string, input: { policy?: unknown; enabled?: boolean; tags?: Record<string, string> }): { entry: CertEntry; version: CertVersion } {
    checkName(name);
    const existing = this.certificates.get(name.toLowerCase());
    if (existing?.deleted) throw kvErrors.deletedButRecoverable(name);
    const [leaf, ...chain] = material.certificates;
    const now = this.seconds();
    const base = existing?.policy ?? defaultPolicy(leaf, material.privateKey, contentType);
    const policy = mergePolicy(base, input.policy);
    const x509 = new X509Certificate(leaf);
    const version: CertVersion = {
      version: randomBytes(16).toString('hex'),
      certDer: leaf,
      chainDer: chain,
      x5t: createHash('sha1').update(leaf).digest('base64url'),
      enabled: input.enabled ?? true,
      nbf: Math.floor(new Date(x509.validFrom).getTime() / 1000),
      exp: Math.floor(new Date(x509.validTo).getTime() / 1000),
      created: now,
      updated: now,
      tags: input.tags ?? {},
    };
    const entry: CertEntry = existing ?? { name, versions: [], policy, policyCreated: now, policyUpdated: now };
    if (existing && input.policy !== undefined) entry.policyUpdated = now;
    entry.policy = policy;
    entry.versions.push(version);
    this.certificates.set(name.toLowerCase(), entry);
    return { entry, version };
  }

  softDelete(name: string): CertEntry {
    const e = this.live(name);
    const now = this.seconds();
    e.deleted = { deletedDate: now, scheduledPurgeDate: now + RETENTION_DAYS * 86_400 };
    return e;
  }

  purge(name: string): void {
    this.deleted(name);
    this.certificates.delete(name.toLowerCase());
  }

  recover(name: string): CertEntry {
    const e = this.deleted(name);
    delete e.deleted;
    return e;
  }

  /** Whether `principals` (the caller's oid and appid) hold `permission` on this vault. */
  allows(principals: string[], permission: CertificatePermission): boolean {
    return principals.some((p) => this.accessPolicies.get(p.toLowerCase())?.has(permission));
  }
}
