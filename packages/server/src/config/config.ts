import path from 'node:path';
import { z } from 'zod';

/** Environment variables of SPEC "Configuration", parsed once at start. */
const envSchema = z.object({
  CERTBRIDGE_DATA_DIR: z.string().min(1).default('./.certbridge'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  CERTBRIDGE_LISTEN: z.string().min(1).default('127.0.0.1'),
  CERTBRIDGE_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  CERTBRIDGE_HTTPS_PORT: z.coerce.number().int().min(0).max(65535).default(8443),
  CERTBRIDGE_PUBLIC_URL: z.string().url().default('https://localhost:8443'),
  CERTBRIDGE_PKI_URL: z.string().url().optional(),
  CERTBRIDGE_MASTER_KEY: z.string().optional(),
  CERTBRIDGE_BOOTSTRAP_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  CERTBRIDGE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CERTBRIDGE_WORKERS: z.coerce.number().int().min(1).max(256).default(1),
  CERTBRIDGE_PG_PREPARED_STATEMENTS: z.enum(['on', 'off']).default('on'),
  CERTBRIDGE_PGLITE_SHARED_BUFFERS: z.string().regex(/^[1-9]\d*(kB|MB|GB)$/, 'must be a size such as 16MB').default('16MB'),
  CERTBRIDGE_ACME_HTTP01_PORT: z.coerce.number().int().min(1).max(65535).default(80),
  CERTBRIDGE_ACME_TLSALPN01_PORT: z.coerce.number().int().min(1).max(65535).default(443),
  CERTBRIDGE_ACME_DNS_RESOLVER: z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+)(:\d{1,5})?$/, 'must be host:port').optional(),
  CERTBRIDGE_AZURE_CLIENT_SECRETS_OAUTH_CLIENT_ID: z.string().min(1).optional(),
  CERTBRIDGE_AZURE_CLIENT_SECRETS_OAUTH_CLIENT_SECRET: z.string().min(1).optional(),
  CERTBRIDGE_AZURE_KEY_VAULT_OAUTH_CLIENT_ID: z.string().min(1).optional(),
  CERTBRIDGE_AZURE_KEY_VAULT_OAUTH_CLIENT_SECRET: z.string().min(1).optional(),
})
  .refine((e) => !e.CERTBRIDGE_AZURE_CLIENT_SECRETS_OAUTH_CLIENT_ID === !e.CERTBRIDGE_AZURE_CLIENT_SECRETS_OAUTH_CLIENT_SECRET, { path: ['CERTBRIDGE_AZURE_CLIENT_SECRETS_OAUTH_CLIENT_SECRET'], message: 'set together with CERTBRIDGE_AZURE_CLIENT_SECRETS_OAUTH_CLIENT_ID' })
  // The embedded database lives inside one process; worker processes need a shared PostgreSQL.
  .refine((e) => e.CERTBRIDGE_WORKERS === 1 || e.DATABASE_URL !== undefined, { path: ['CERTBRIDGE_WORKERS'], message: 'more than 1 worker needs DATABASE_URL (PostgreSQL)' })
  .refine((e) => !e.CERTBRIDGE_AZURE_KEY_VAULT_OAUTH_CLIENT_ID === !e.CERTBRIDGE_AZURE_KEY_VAULT_OAUTH_CLIENT_SECRET, { path: ['CERTBRIDGE_AZURE_KEY_VAULT_OAUTH_CLIENT_SECRET'], message: 'set together with CERTBRIDGE_AZURE_KEY_VAULT_OAUTH_CLIENT_ID' });

export interface Config {
  dataDir: string;
  databaseUrl: string | undefined;
  listen: string;
  httpPort: number;
  httpsPort: number;
  publicUrl: string;
  /** Base URL written into AIA, CDP and OCSP extensions (RFC 5280 relying parties). */
  pkiUrl: string;
  masterKey: string | undefined;
  bootstrapToken: string | undefined;
  logLevel: z.infer<typeof envSchema>['CERTBRIDGE_LOG_LEVEL'];
  /** `certbridge serve` processes sharing the listen sockets (cluster.ts); 1 = no cluster. */
  workers: number;
  /** Hot statements sent to PostgreSQL as named prepared statements (db/prepared-statements.ts); off for poolers that cannot keep them. */
  pgPreparedStatements: boolean;
  /** shared_buffers of the embedded PGlite (database.ts says why it is small by default). */
  pgliteSharedBuffers: string;
  /** ACME challenge validation (SPEC CERTBRIDGE_ACME_*). */
  acme: { http01Port: number; tlsAlpn01Port: number; dnsResolver: string | undefined };
  /** The server's own Azure apps for OAuth connections (issue 8), per connection type. */
  azureOauth: Partial<Record<'azure-client-secrets' | 'azure-key-vault', { clientId: string; clientSecret: string }>>;
}

export class ConfigError extends Error {}

/** Parses the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  const e = parsed.data;
  const publicUrl = e.CERTBRIDGE_PUBLIC_URL.replace(/\/+$/, '');
  return {
    dataDir: path.resolve(e.CERTBRIDGE_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    listen: e.CERTBRIDGE_LISTEN,
    httpPort: e.CERTBRIDGE_HTTP_PORT,
    httpsPort: e.CERTBRIDGE_HTTPS_PORT,
    publicUrl,
    pkiUrl: (e.CERTBRIDGE_PKI_URL ?? publicUrl).replace(/\/+$/, ''),
    masterKey: e.CERTBRIDGE_MASTER_KEY,
    bootstrapToken: e.CERTBRIDGE_BOOTSTRAP_TOKEN,
    logLevel: e.CERTBRIDGE_LOG_LEVEL,
    workers: e.CERTBRIDGE_WORKERS,
    pgPreparedStatements: e.CERTBRIDGE_PG_PREPARED_STATEMENTS === 'on',
    pgliteSharedBuffers: e.CERTBRIDGE_PGLITE_SHARED_BUFFERS,
    acme: { http01Port: e.CERTBRIDGE_ACME_HTTP01_PORT, tlsAlpn01Port: e.CERTBRIDGE_ACME_TLSALPN01_PORT, dnsResolver: e.CERTBRIDGE_ACME_DNS_RESOLVER },
    azureOauth: {
      ...(e.CERTBRIDGE_AZURE_CLIENT_SECRETS_OAUTH_CLIENT_ID && e.CERTBRIDGE_AZURE_CLIENT_SECRETS_OAUTH_CLIENT_SECRET
        ? { 'azure-client-secrets': { clientId: e.CERTBRIDGE_AZURE_CLIENT_SECRETS_OAUTH_CLIENT_ID, clientSecret: e.CERTBRIDGE_AZURE_CLIENT_SECRETS_OAUTH_CLIENT_SECRET } } : {}),
      ...(e.CERTBRIDGE_AZURE_KEY_VAULT_OAUTH_CLIENT_ID && e.CERTBRIDGE_AZURE_KEY_VAULT_OAUTH_CLIENT_SECRET
        ? { 'azure-key-vault': { clientId: e.CERTBRIDGE_AZURE_KEY_VAULT_OAUTH_CLIENT_ID, clientSecret: e.CERTBRIDGE_AZURE_KEY_VAULT_OAUTH_CLIENT_SECRET } } : {}),
    },
  };
}
