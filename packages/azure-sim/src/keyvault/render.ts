/** Key Vault's JSON for certificate bundles, list items, deleted certificates and policies (dates in Unix seconds). */
import type { CertEntry, CertVersion, Vault } from './store.ts';

const RECOVERY = { recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 };

function attributes(v: CertVersion): Record<string, unknown> {
  return { enabled: v.enabled, nbf: v.nbf, exp: v.exp, created: v.created, updated: v.updated, ...RECOVERY };
}

export function policyJson(vault: Vault, e: CertEntry): Record<string, unknown> {
  return { id: `${vault.url}/certificates/${e.name}/policy`, ...e.policy, attributes: { enabled: true, created: e.policyCreated, updated: e.policyUpdated } };
}

export function bundleJson(vault: Vault, e: CertEntry, v: CertVersion): Record<string, unknown> {
  return {
    id: `${vault.url}/certificates/${e.name}/${v.version}`,
    kid: `${vault.url}/keys/${e.name}/${v.version}`,
    sid: `${vault.url}/secrets/${e.name}/${v.version}`,
    x5t: v.x5t,
    cer: v.certDer.toString('base64'),
    attributes: attributes(v),
    policy: policyJson(vault, e),
    tags: { ...v.tags },
  };
}

/** A `CertificateItem`: versions lists carry the version in the id, certificate lists do not. */
export function itemJson(vault: Vault, e: CertEntry, v: CertVersion, withVersion: boolean): Record<string, unknown> {
  return { id: `${vault.url}/certificates/${e.name}${withVersion ? `/${v.version}` : ''}`, x5t: v.x5t, attributes: attributes(v), tags: { ...v.tags } };
}

export function deletedJson(vault: Vault, e: CertEntry): Record<string, unknown> {
  const latest = e.versions[e.versions.length - 1];
  return {
    recoveryId: `${vault.url}/deletedcertificates/${e.name}`,
    deletedDate: e.deleted?.deletedDate,
    scheduledPurgeDate: e.deleted?.scheduledPurgeDate,
    ...bundleJson(vault, e, latest),
  };
}

export function deletedItemJson(vault: Vault, e: CertEntry): Record<string, unknown> {
  const latest = e.versions[e.versions.length - 1];
  return {
    recoveryId: `${vault.url}/deletedcertificates/${e.name}`,
    deletedDate: e.deleted?.deletedDate,
    scheduledPurgeDate: e.deleted?.scheduledPurgeDate,
    ...itemJson(vault, e, latest, false),
  };
}
