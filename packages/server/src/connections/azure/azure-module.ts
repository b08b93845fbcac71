import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.ts';
import type { Sealer } from '../../crypto/sealer.ts';
import type { Database } from '../../db/schema.ts';
import { createAzureConnectionsRepository } from './azure-connections-repository.ts';
import { createAzureCredentials, type OauthApps } from './azure-credentials.ts';

/** Azure settings from the configuration (CERTBRIDGE_PUBLIC_URL and CERTBRIDGE_AZURE_*). */
export interface AzureOptions {
  /** Base of the OAuth redirect URI `${publicUrl}/api/v1/connections/azure/oauth/callback`. */
  publicUrl?: string;
  oauthApps?: OauthApps;
}

/**
 * The Azure part of the core: the connections repository and the credentials other modules
 * (Key Vault sync) use through `core.azure.credentials.credentialFor(...)`.
 */
export function createAzureModule(deps: { db: Kysely<Database>; sealer: Sealer; clock: Clock; options?: AzureOptions }) {
  const repo = createAzureConnectionsRepository(deps.db);
  const credentials = createAzureCredentials({ repo, sealer: deps.sealer, oauthApps: deps.options?.oauthApps ?? {} });
  return { repo, credentials };
}

export type AzureModule = ReturnType<typeof createAzureModule>;
