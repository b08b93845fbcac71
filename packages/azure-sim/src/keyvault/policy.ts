/**
 * Certificate policies as Key Vault stores them (snake_case JSON): the default an import gets
 * from the certificate itself (issuer `Unknown`, EmailContacts at 80 % of the lifetime), and
 * the checks on a policy sent with import or update.
 */
import { parseCertificate } from '@certbridge/pki';
import type { KeyObject } from 'node:crypto';
import { kvErrors } from './errors.ts';

export type Policy = Record<string, unknown> & {
  issuer: { name: string } & Record<string, unknown>;
  lifetime_actions: { trigger: Record<string, number>; action: { action_type: string } }[];
};

const ACTIONS = new Set(['EmailContacts', 'AutoRenew']);
const CONTENT_TYPES = new Set(['application/x-pkcs12', 'application/x-pem-file']);

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function keyProps(key: KeyObject): Record<string, unknown> {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    const crv = ({ prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521', secp256k1: 'P-256K' } as Record<string, string>)[d.namedCurve ?? ''] ?? d.namedCurve;
    return { exportable: true, kty: 'EC', crv, reuse_key: false };
  }
  return { exportable: true, kty: 'RSA', key_size: d.modulusLength, reuse_key: false };
}

/** What Key Vault derives for a certificate imported without a policy. */
export function defaultPolicy(leafDer: Buffer, key: KeyObject, contentType: string): Policy {
  const info = parseCertificate(new Uint8Array(leafDer));
  const dns = info.sans.filter((s) => s.type === 'dns').map((s) => s.value);
  const emails = info.sans.filter((s) => s.type === 'email').map((s) => s.value);
  const months = Math.max(1, Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / (30.4375 * 86_400_000)));
  return {
    key_props: keyProps(key),
    secret_props: { contentType },
    x509_props: {
      subject: info.subjectText,
      ...(dns.length || emails.length ? { sans: { ...(dns.length ? { dns_names: dns } : {}), ...(emails.length ? { emails } : {}) } } : {}),
      ekus: info.extendedKeyUsages,
      key_usage: info.keyUsages,
      validity_months: months,
      basic_constraints: { ca: info.isCa },
    },
    lifetime_actions: [{ trigger: { lifetime_percentage: 80 }, action: { action_type: 'EmailContacts' } }],
    issuer: { name: 'Unknown' },
  };
}

/** The content type an import body declares (`policy.secret_props.contentType`), PKCS#12 by default. */
export function declaredContentType(policy: unknown): string {
  const ct = isObject(policy) && isObject(policy.secret_props) ? policy.secret_props.contentType : undefined;
  if (ct === undefined) return 'application/x-pkcs12';
  if (typeof ct !== 'string' || !CONTENT_TYPES.has(ct)) throw kvErrors.badBody(`Invalid content type: ${String(ct)}. Supported are application/x-pkcs12 and application/x-pem-file.`);
  return ct;
}

/** Merges a client policy over `base`, checking issuer and lifetime actions as Key Vault does. */
export function mergePolicy(base: Policy, input: unknown): Policy {
  if (input === undefined || input === null) return base;
  if (!isObject(input)) throw kvErrors.badBody('Property policy has invalid value.');
  const out: Policy = { ...base };
  for (const key of ['key_props', 'secret_props', 'x509_props'] as const) {
    if (input[key] === undefined) continue;
    if (!isObject(input[key])) throw kvErrors.badBody(`Property policy.${key} has invalid value.`);
    out[key] = { ...(base[key] as Record<string, unknown>), ...input[key] };
  }
  if (input.issuer !== undefined) {
    if (!isObject(input.issuer) || typeof input.issuer.name !== 'string' || input.issuer.name === '') throw kvErrors.badBody('Property policy.issuer.name is required.');
    out.issuer = { ...input.issuer, name: input.issuer.name };
  }
  if (input.lifetime_actions !== undefined) out.lifetime_actions = lifetimeActions(input.lifetime_actions);
  return out;
}

function lifetimeActions(v: unknown): Policy['lifetime_actions'] {
  if (!Array.isArray(v)) throw kvErrors.badBody('Property policy.lifetime_actions has invalid value.');
  return v.map((a: unknown) => {
    const trig = isObject(a) && isObject(a.trigger) ? a.trigger : undefined;
    const type = isObject(a) && isObject(a.action) ? a.action.action_type : undefined;
    if (!trig || typeof type !== 'string' || !ACTIONS.has(type)) throw kvErrors.badBody('Invalid lifetime action: action_type must be EmailContacts or AutoRenew.');
    const pct = trig.lifetime_percentage;
    const days = trig.days_before_expiry;
    if ((pct === undefined) === (days === undefined)) throw kvErrors.badBody('Invalid lifetime action trigger: exactly one of lifetime_percentage and days_before_expiry is required.');
    if (pct !== undefined && (typeof pct !== 'number' || !Number.isInteger(pct) || pct < 1 || pct > 99)) throw kvErrors.badBody('lifetime_percentage must be between 1 and 99.');
    if (days !== undefined && (typeof days !== 'number' || !Number.isInteger(days) || days < 1)) throw kvErrors.badBody('days_before_expiry must be a positive integer.');
    const trigger: Record<string, number> = pct !== undefined ? { lifetime_percentage: pct } : { days_before_expiry: days as number };
    return { trigger, action: { action_type: type } };
  });
}

export function hasAutoRenew(policy: Policy): boolean {
  return policy.lifetime_actions.some((a) => a.action.action_type === 'AutoRenew');
}
