import net from 'node:net';
import { EKU_NAMES, type KeyAlgorithm, type KeyUsage, type NameAttribute, type San, type SanType } from '@certbridge/pki';
import { dnsMatches, ipMatches, textMatches } from './patterns.ts';
import type { PolicyRules } from './policy-rules.ts';

/** One reason a request breaks its policy; `field` names where (e.g. `subject.O`, `sans[2]`). */
export interface Violation {
  field: string;
  message: string;
}

/** What the policy judges: the request after profile defaults were applied. */
export interface RequestFacts {
  subject: NameAttribute[];
  sans: San[];
  keyAlgorithm: KeyAlgorithm | null;
  keyDescription: string;
  keyUsages: KeyUsage[];
  extendedKeyUsages: string[];
  validityDays: number;
}

/** Resolves an EKU given by API name or OID to its OID; unknown names stay as given. */
export const ekuOid = (eku: string): string => EKU_NAMES[eku] ?? eku;

const SAN_MATCHERS: Record<SanType, (value: string, pattern: string) => boolean> = {
  dns: dnsMatches,
  ip: ipMatches,
  email: textMatches,
  uri: textMatches,
  upn: textMatches,
};

const SAN_SYNTAX: Record<SanType, (value: string) => boolean> = {
  dns: (v) => /^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/i.test(v) && v.length <= 253,
  ip: (v) => net.isIP(v) !== 0,
  email: (v) => /^[^\s@]+@[^\s@]+$/.test(v),
  uri: (v) => /^[a-z][a-z0-9+.-]*:\S+$/i.test(v),
  upn: (v) => /^[^\s@]+@[^\s@]+$/.test(v),
};

/**
 * Checks a request against a policy and returns every violation (an empty list means allowed),
 * so the caller can report all problems at once instead of one per attempt.
 */
export function evaluatePolicy(rules: PolicyRules, req: RequestFacts): Violation[] {
  const v: Violation[] = [];
  const types = new Set(req.subject.map((a) => a.type));
  for (const attr of req.subject) {
    const field = `subject.${attr.type}`;
    if (rules.subject.deniedAttributes.includes(attr.type)) v.push({ field, message: `${attr.type} is not allowed in the subject` });
    else if (rules.subject.allowedAttributes && !rules.subject.allowedAttributes.includes(attr.type)) v.push({ field, message: `${attr.type} is not one of the allowed subject attributes (${rules.subject.allowedAttributes.join(', ')})` });
    const patterns = rules.subject.valuePatterns[attr.type];
    if (patterns && !patterns.some((p) => textMatches(attr.value, p))) v.push({ field, message: `${attr.type}=${attr.value} does not match ${patterns.join(' | ')}` });
  }
  for (const required of rules.subject.requiredAttributes) {
    if (!types.has(required)) v.push({ field: `subject.${required}`, message: `${required} is required in the subject` });
  }

  if (req.sans.length > rules.sans.maxCount) v.push({ field: 'sans', message: `at most ${rules.sans.maxCount} subject alternative names are allowed` });
  req.sans.forEach((san, i) => {
    const field = `sans[${i}]`;
    if (!SAN_SYNTAX[san.type](san.value)) return v.push({ field, message: `${san.value} is not a valid ${san.type} name` });
    if (!rules.sans.allowedTypes.includes(san.type)) return v.push({ field, message: `${san.type} names are not allowed` });
    const match = SAN_MATCHERS[san.type];
    const denied = rules.sans.deniedPatterns[san.type] ?? [];
    if (denied.some((p) => match(san.value, p))) return v.push({ field, message: `${san.type} ${san.value} is denied by the policy` });
    const allowed = rules.sans.patterns[san.type] ?? [];
    if (allowed.length > 0 && !allowed.some((p) => match(san.value, p))) v.push({ field, message: `${san.type} ${san.value} does not match ${allowed.join(' | ')}` });
    return undefined;
  });
  for (const required of rules.sans.requiredTypes) {
    if (!req.sans.some((s) => s.type === required)) v.push({ field: 'sans', message: `at least one ${required} name is required` });
  }

  if (!req.keyAlgorithm || !rules.keyAlgorithms.includes(req.keyAlgorithm)) {
    v.push({ field: 'key', message: `key ${req.keyDescription} is not allowed (allowed: ${rules.keyAlgorithms.join(', ')})` });
  }
  for (const ku of req.keyUsages) {
    if (!rules.keyUsages.includes(ku)) v.push({ field: 'keyUsages', message: `key usage ${ku} is not allowed` });
  }
  const allowedEkus = new Set(rules.extendedKeyUsages.map(ekuOid));
  for (const eku of req.extendedKeyUsages) {
    if (!allowedEkus.has(ekuOid(eku))) v.push({ field: 'extendedKeyUsages', message: `extended key usage ${eku} is not allowed` });
  }
  if (req.validityDays > rules.maxValidityDays) v.push({ field: 'validityDays', message: `validity of ${req.validityDays} days exceeds the maximum of ${rules.maxValidityDays}` });
  return v;
}
