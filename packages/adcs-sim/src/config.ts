/**
 * Emulator configuration: one zod schema, parsed once, failing fast with a readable message.
 * The same shape is the `sim.json` file the CLI reads and the argument of `startAdcsSim`.
 */
import { z } from 'zod';

const user = z.object({
  name: z.string().min(1).regex(/^[^\\/:@]+$/, 'user names are sAMAccountNames (no domain part)'),
  password: z.string(),
  groups: z.array(z.string()).default([]),
  email: z.string().optional(),
});

const template = z.object({
  /** Template common name (cn of the pKICertificateTemplate object), used in CertificateTemplate:<CN>. */
  cn: z.string().min(1),
  displayName: z.string().optional(),
  /** msPKI-Cert-Template-OID; derived from the CN when absent. */
  oid: z.string().regex(/^\d+(\.\d+)+$/).optional(),
  /** 1 = V1 template (extension 1.3.6.1.4.1.311.20.2, name), 2+ = V2 (1.3.6.1.4.1.311.21.7, OID). */
  schemaVersion: z.number().int().min(1).max(4).default(2),
  majorVersion: z.number().int().min(0).default(100),
  minorVersion: z.number().int().min(0).default(0),
  /** auto: issued at once; manager: CT_FLAG_PEND_ALL_REQUESTS (CA certificate manager approval). */
  issuance: z.enum(['auto', 'manager']).default('auto'),
  /** Users (sAMAccountName) or groups allowed Enroll; `Authenticated Users` allows everyone. */
  enroll: z.array(z.string()).default([]),
  validityDays: z.number().int().positive().default(365),
  keyUsage: z.array(z.enum(['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign'])).default(['digitalSignature', 'keyEncipherment']),
  extendedKeyUsage: z.array(z.string().regex(/^\d+(\.\d+)+$/)).default(['1.3.6.1.5.5.7.3.1']),
  minKeySize: z.number().int().min(0).default(2048),
  /** request: CT_FLAG_ENROLLEE_SUPPLIES_SUBJECT; account: subject built from the directory. */
  subject: z.enum(['request', 'account']).default('request'),
  /** A CA template (SubCA) issues basicConstraints cA=TRUE. */
  isCa: z.boolean().default(false),
});

const caFlags = z.object({
  /** EDITF_ATTRIBUTEENDDATE: honour ExpirationDate / ValidityPeriod request attributes. */
  attributeEndDate: z.boolean().default(true),
  /** EDITF_ATTRIBUTESUBJECTALTNAME2: honour the SAN:… request attribute. */
  attributeSubjectAltName2: z.boolean().default(false),
});

const auth = z.object({
  ntlm: z.boolean().default(true),
  basic: z.boolean().default(true),
  negotiate: z.boolean().default(false),
  /** Extended Protection for Authentication (KB5005413): channel binding for NTLM. */
  epa: z.enum(['off', 'accept', 'required']).default('off'),
  /** Kerberos keytab for the HTTP/<host> service principal (Negotiate). */
  keytab: z.string().optional(),
  /** GSS host-based service name; default `HTTP@<host>` (principal HTTP/<host>@REALM). */
  servicePrincipal: z.string().optional(),
  /** Kerberos realm whose principals map to the configured users; default upper-case dnsDomain. */
  realm: z.string().optional(),
});

export const simConfigSchema = z.object({
  host: z.string().default('localhost'),
  listen: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(0),
  /** NetBIOS domain name, as in CORP\alice. */
  domain: z.string().default('CORP'),
  dnsDomain: z.string().default('corp.example.test'),
  caName: z.string().default('corp-SIM-CA'),
  rootCaName: z.string().default('corp-SIM-ROOT-CA'),
  /** Account that appears in "Denied by CORP\admin" / "Resubmitted by …" when the admin API acts. */
  caManager: z.string().default('admin'),
  users: z.array(user).default([]),
  templates: z.array(template).default([]),
  caFlags: caFlags.default({}),
  auth: auth.default({}),
  adminToken: z.string().min(16),
  /** JSON file holding the CA keys, request ids and requests; in memory only when absent. */
  stateFile: z.string().optional(),
  /** Largest accepted request body; IIS's default for ASP is 200 000 bytes (maxRequestEntityAllowed). */
  maxBodyBytes: z.number().int().positive().default(200_000),
});

export type SimConfigInput = z.input<typeof simConfigSchema>;
export type SimConfig = z.output<typeof simConfigSchema>;
export type TemplateConfig = z.output<typeof template>;
export type UserConfig = z.output<typeof user>;
export type CaFlags = z.output<typeof caFlags>;
export type AuthConfig = z.output<typeof auth>;
export const templateSchema = template;
export const caFlagsSchema = caFlags;

/** Parses a configuration object, throwing an Error listing every problem by path. */
export function parseConfig(input: unknown): SimConfig {
  const result = simConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new Error(`invalid adcs-sim configuration:\n${lines.join('\n')}`);
}
