/**
 * The CLI's configuration file: ports, and per tenant its app registrations, users and vaults.
 * One zod schema, parsed once; `applyConfig` seeds a running emulator through the admin API.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import type { AzureSim } from './index.ts';
import { CERTIFICATE_PERMISSIONS } from './keyvault/store.ts';

const guid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a GUID');
const port = z.number().int().min(0).max(65535);

const appSchema = z.object({
  appId: guid.optional(),
  objectId: guid.optional(),
  displayName: z.string().min(1).optional(),
  redirectUris: z.array(z.string().url()).default([]),
  graphRoles: z.array(z.string().min(1)).default([]),
  owners: z.array(z.string().min(1)).default([]),
  secrets: z.array(z.object({ secret: z.string().min(8), keyId: guid.optional(), displayName: z.string().optional(), endDateTime: z.string().datetime().optional() })).default([]),
  /** Paths (relative to the config file) of PEM certificates registered as certificate credentials. */
  certificates: z.array(z.string().min(1)).default([]),
}).strict();

const tenantSchema = z.object({
  id: guid.optional(),
  domain: z.string().regex(/^[a-zA-Z0-9.-]+$/, 'must be a domain name').optional(),
  apps: z.array(appSchema).default([]),
  users: z.array(z.object({ userPrincipalName: z.string().email(), displayName: z.string().optional(), objectId: guid.optional(), consent: z.enum(['grant', 'deny']).default('grant') }).strict()).default([]),
  vaults: z.array(z.object({
    name: z.string().regex(/^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/, 'vault names are 3-24 letters, digits and dashes'),
    port: port.optional(),
    access: z.array(z.object({ principal: z.string().min(1), permissions: z.array(z.enum(CERTIFICATE_PERMISSIONS)).optional() }).strict()).default([]),
  }).strict()).default([]),
}).strict();

export const configSchema = z.object({
  $comment: z.union([z.string(), z.array(z.string())]).optional(),
  host: z.string().default('127.0.0.1'),
  port: port.default(0),
  graphPort: port.default(0),
  propagationDelayMs: z.number().int().min(0).default(0),
  /** Bearer token of the `/sim/` admin API on the authority origin; absent = no admin API. */
  adminToken: z.string().min(16).optional(),
  tenants: z.array(tenantSchema).min(1),
}).strict();

export type SimConfig = z.infer<typeof configSchema>;

/** Parses the config; the error names every bad field on one line. */
export function parseConfig(raw: unknown): SimConfig {
  const r = configSchema.safeParse(raw);
  if (!r.success) throw new Error(`invalid config: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** Seeds tenants, apps, users and vaults; returns the vault URLs by name. */
export async function applyConfig(sim: AzureSim, config: SimConfig, baseDir: string): Promise<Record<string, string>> {
  sim.admin.setPropagationDelay(config.propagationDelayMs);
  const vaults: Record<string, string> = {};
  for (const t of config.tenants) {
    const tenant = sim.admin.addTenant({ id: t.id, domain: t.domain });
    for (const a of t.apps) {
      const app = sim.admin.addApp(tenant.id, { appId: a.appId, objectId: a.objectId, displayName: a.displayName, redirectUris: a.redirectUris, graphRoles: a.graphRoles, owners: a.owners });
      for (const s of a.secrets) sim.admin.addPassword(app.appId, { secret: s.secret, keyId: s.keyId, displayName: s.displayName, endDateTime: s.endDateTime });
      for (const c of a.certificates) sim.admin.addCertificate(app.appId, await readFile(isAbsolute(c) ? c : join(baseDir, c), 'utf8'));
    }
    for (const u of t.users) sim.admin.addUser(tenant.id, u);
    for (const v of t.vaults) {
      vaults[v.name] = await sim.admin.addVault(v.name, { tenantId: tenant.id, port: v.port });
      for (const acc of v.access) sim.admin.grantVaultAccess(v.name, acc.principal, acc.permissions);
    }
  }
  return vaults;
}
