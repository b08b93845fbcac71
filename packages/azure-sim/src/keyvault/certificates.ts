/**
 * Key Vault certificate operations (`/certificates/…` and `/deletedcertificates/…`): decode the
 * body, check it, act on the vault's store, render Key Vault's JSON.
 */
import type { CertEntry, CertificatePermission, Vault } from './store.ts';
import { checkTags } from './store.ts';
import { kvErrors } from './errors.ts';
import { declaredContentType, mergePolicy } from './policy.ts';
import { ImportFormatError, readPem, readPkcs12 } from './pkcs12.ts';
import { bundleJson, deletedItemJson, deletedJson, itemJson, policyJson } from './render.ts';

export interface KvRequest {
  method: string;
  /** Path segments after the vault origin, e.g. `['certificates', 'web', 'import']`; a trailing `''` means latest. */
  parts: string[];
  body: Record<string, unknown> | undefined;
}

export interface KvResult {
  status: number;
  body?: unknown;
}

export interface KvOperation {
  permission: CertificatePermission;
  run: () => KvResult;
}

function importCertificate(vault: Vault, name: string, body: Record<string, unknown> | undefined): KvResult {
  if (!body || typeof body.value !== 'string' || body.value === '') throw kvErrors.badBody('Property value is required.');
  if (body.pwd !== undefined && body.pwd !== null && typeof body.pwd !== 'string') throw kvErrors.badBody('Property pwd has invalid value.');
  const contentType = declaredContentType(body.policy);
  // The request model is checked before the certificate content, as Key Vault does.
  mergePolicy({ issuer: { name: 'Unknown' }, lifetime_actions: [] }, body.policy);
  const tags = body.tags === undefined ? undefined : checkTags(body.tags);
  const password = (body.pwd as string | undefined) ?? '';
  let material;
  try {
    material = contentType === 'application/x-pem-file' ? readPem(body.value, password || undefined) : readPkcs12(Buffer.from(body.value, 'base64'), password);
  } catch (e) {
    if (!(e instanceof ImportFormatError)) throw e;
    throw contentType === 'application/x-pem-file' ? kvErrors.pemNoKey() : kvErrors.pkcs12Unreadable();
  }
  const attrs = body.attributes as Record<string, unknown> | undefined;
  const enabled = attrs && typeof attrs.enabled === 'boolean' ? attrs.enabled : undefined;
  const { entry, version } = vault.importVersion(name, material, contentType, { policy: body.policy, enabled, tags });
  return { status: 200, body: bundleJson(vault, entry, version) };
}

function updateCertificate(vault: Vault, entry: CertEntry, version: string, body: Record<string, unknown> | undefined): KvResult {
  const v = vault.version(entry, version);
  if (!body) throw kvErrors.badBody('The request body is required.');
  const attrs = body.attributes;
  if (attrs !== undefined && (attrs === null || typeof attrs !== 'object')) throw kvErrors.badBody('Property attributes has invalid value.');
  const enabled = (attrs as Record<string, unknown> | undefined)?.enabled;
  if (enabled !== undefined && typeof enabled !== 'boolean') throw kvErrors.badBody('Property attributes.enabled has invalid value.');
  const tags = body.tags === undefined ? undefined : checkTags(body.tags);
  const policy = body.policy === undefined ? undefined : mergePolicy(entry.policy, body.policy);
  if (enabled !== undefined) v.enabled = enabled;
  if (tags !== undefined) v.tags = tags;
  if (policy) entry.policy = policy;
  v.updated = vault.seconds();
  return { status: 200, body: bundleJson(vault, entry, v) };
}

/** Maps a request to the permission it needs and the action; 404/405 for anything else. */
export function certificateOperation(vault: Vault, req: KvRequest): KvOperation {
  const [collection, name, sub, extra] = req.parts;
  const m = req.method;
  if (collection === 'certificates') {
    if (name === undefined) {
      if (m !== 'GET') throw kvErrors.methodNotAllowed();
      return { permission: 'list', run: () => ({ status: 200, body: { value: [...vault.certificates.values()].filter((e) => !e.deleted).map((e) => itemJson(vault, e, e.versions[e.versions.length - 1], false)), nextLink: null } }) };
    }
    if (sub === 'import' && extra === undefined) {
      if (m !== 'POST') throw kvErrors.methodNotAllowed();
      return { permission: 'import', run: () => importCertificate(vault, name, req.body) };
    }
    if (sub === 'versions' && extra === undefined && m === 'GET') {
      return { permission: 'get', run: () => { const e = vault.live(name); return { status: 200, body: { value: e.versions.map((v) => itemJson(vault, e, v, true)), nextLink: null } }; } };
    }
    if (sub === 'policy' && extra === undefined) {
      if (m === 'GET') return { permission: 'get', run: () => ({ status: 200, body: policyJson(vault, vault.live(name)) }) };
      if (m === 'PATCH') {
        return { permission: 'update', run: () => { const e = vault.live(name); e.policy = mergePolicy(e.policy, req.body); e.policyUpdated = vault.seconds(); return { status: 200, body: policyJson(vault, e) }; } };
      }
      throw kvErrors.methodNotAllowed();
    }
    if (extra !== undefined) throw kvErrors.noRoute();
    const version = sub ?? '';
    if (m === 'GET') return { permission: 'get', run: () => { const e = vault.live(name); return { status: 200, body: bundleJson(vault, e, vault.version(e, version)) }; } };
    if (m === 'PATCH') return { permission: 'update', run: () => updateCertificate(vault, vault.live(name), version, req.body) };
    if (m === 'DELETE' && sub === undefined) return { permission: 'delete', run: () => ({ status: 200, body: deletedJson(vault, vault.softDelete(name)) }) };
    throw kvErrors.methodNotAllowed();
  }
  if (collection === 'deletedcertificates') {
    if (name === undefined) {
      if (m !== 'GET') throw kvErrors.methodNotAllowed();
      return { permission: 'list', run: () => ({ status: 200, body: { value: [...vault.certificates.values()].filter((e) => e.deleted).map((e) => deletedItemJson(vault, e)), nextLink: null } }) };
    }
    if (sub === 'recover' && extra === undefined && m === 'POST') {
      return { permission: 'recover', run: () => { const e = vault.recover(name); return { status: 200, body: bundleJson(vault, e, e.versions[e.versions.length - 1]) }; } };
    }
    if (sub !== undefined) throw kvErrors.noRoute();
    if (m === 'GET') return { permission: 'get', run: () => ({ status: 200, body: deletedJson(vault, vault.deleted(name)) }) };
    if (m === 'DELETE') return { permission: 'purge', run: () => { vault.purge(name); return { status: 204 }; } };
    throw kvErrors.methodNotAllowed();
  }
  throw kvErrors.noRoute();
}
