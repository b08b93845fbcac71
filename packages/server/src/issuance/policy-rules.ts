import { z } from 'zod';
import { isValidCidr } from './patterns.ts';
import { KEY_ALGORITHMS, type KeyAlgorithm, type KeyUsage, type SanType } from '@certbridge/pki';

const SAN_TYPES = ['dns', 'ip', 'email', 'uri', 'upn'] as const satisfies readonly SanType[];
const KEY_USAGES = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'] as const satisfies readonly KeyUsage[];

export const sanTypeSchema = z.enum(SAN_TYPES);
export const keyUsageSchema = z.enum(KEY_USAGES);
export const keyAlgorithmSchema = z.enum(KEY_ALGORITHMS as unknown as [KeyAlgorithm, ...KeyAlgorithm[]]);
/** An EKU by API name (`serverAuth`) or dotted OID. */
export const ekuSchema = z.string().regex(/^([a-zA-Z]+|\d+(\.\d+)+)$/, 'an EKU name such as serverAuth or a dotted OID');

/**
 * A policy: what a request may contain. Patterns are globs: `*` matches within one DNS label
 * (or any run of characters for email/URI/UPN), a leading `**.` matches any number of labels;
 * IP patterns are CIDR blocks. An empty `patterns` list for a SAN type allows any value of it.
 */
export const policyRulesSchema = z.object({
  subject: z.object({
    /** Attribute short names allowed in the subject; null allows any. */
    allowedAttributes: z.array(z.string().min(1)).nullable().default(null),
    requiredAttributes: z.array(z.string().min(1)).default([]),
    deniedAttributes: z.array(z.string().min(1)).default([]),
    /** Per attribute, globs its values must match (e.g. {"O": ["Example Corp"]}). */
    valuePatterns: z.record(z.string(), z.array(z.string().min(1))).default({}),
  }).strict().default({}),
  sans: z.object({
    allowedTypes: z.array(sanTypeSchema).default([...SAN_TYPES]),
    requiredTypes: z.array(sanTypeSchema).default([]),
    patterns: z.record(sanTypeSchema, z.array(z.string().min(1))).default({}),
    deniedPatterns: z.record(sanTypeSchema, z.array(z.string().min(1))).default({}),
    maxCount: z.number().int().min(0).max(1000).default(100),
  }).strict().default({}).superRefine((sans, ctx) => {
    for (const cidr of [...(sans.patterns.ip ?? []), ...(sans.deniedPatterns.ip ?? [])]) {
      if (!isValidCidr(cidr)) ctx.addIssue({ code: 'custom', message: `${cidr} is not an IP address or CIDR block` });
    }
  }),
  keyAlgorithms: z.array(keyAlgorithmSchema).min(1).default([...KEY_ALGORITHMS]),
  keyUsages: z.array(keyUsageSchema).default([...KEY_USAGES]),
  extendedKeyUsages: z.array(ekuSchema).default(['serverAuth', 'clientAuth', 'codeSigning', 'emailProtection', 'timeStamping', 'ocspSigning', 'smartcardLogon']),
  maxValidityDays: z.number().int().min(1).max(36500).default(397),
}).strict();

export type PolicyRules = z.infer<typeof policyRulesSchema>;

/** Profile defaults applied to every request unless the request narrows them. */
export const profileDefaultsSchema = z.object({
  validityDays: z.number().int().min(1).max(36500).default(90),
  keyAlgorithm: keyAlgorithmSchema.default('EC-P256'),
  keyUsages: z.array(keyUsageSchema).default(['digitalSignature', 'keyEncipherment']),
  extendedKeyUsages: z.array(ekuSchema).default(['serverAuth', 'clientAuth']),
}).strict();

export type ProfileDefaults = z.infer<typeof profileDefaultsSchema>;
