import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.ts';
import type { Sealer } from '../../crypto/sealer.ts';
import type { Database } from '../../db/schema.ts';
import type { UsersRepository } from '../../repositories/users-repository.ts';
import { createAzureConnectionService } from './azure-connection-service.ts';
import { createAzureConnectionsRepository } from './azure-connections-repository.ts';
import { createAzureCredentials, type OauthApps } from './azure-credentials.ts';
import { createAzureOauth } from './azure-oauth.ts';
import { createSecretRotation } from './secret-rotation.ts';

/** Azure settings from the configuration (CERTBRIDGE_PUBLIC_URL and CERTBRIDGE_AZURE_*). */
export interface AzureOptions {
  /** Base of the OAuth redirect URI `${publicUrl}/api/v1/connections/azure/oauth/callback`. */
  publicUrl?: string;
  oauthApps?: OauthApps;
  /** Waits between proofs that a new secret works (tests shorten them). */
  propagationDelaysMs?: number[];
}

/**
 * The Azure part of the core: connections (service, OAuth sign-in, secret rotation) and the
 * credentials other modules (Key Vault sync) use through `core.azure.credentials.credentialFor(...)`.
 */
export function createAzureModule(deps: {
  db: Kysely<Database>; sealer: Sealer; clock: Clock; users: UsersRepository; options?: AzureOptions;
  /** Whether a connection of another kind (ADCS) has this name. */
  nameTaken: (name: string) => Promise<boolean>;
}) {
  const { db, sealer, clock } = deps;
  const options = deps.options ?? {};
  const repo = createAzureConnectionsRepository(db);
  const credentials = createAzureCredentials({ repo, sealer, oauthApps: options.oauthApps ?? {} });
  const rotation = createSecretRotation({ db, repo, sealer, clock, credentials, ...(options.propagationDelaysMs ? { propagationDelaysMs: options.propagationDelaysMs } : {}) });
  const connections = createAzureConnectionService({ db, repo, sealer, clock, credentials, rotation, nameTaken: deps.nameTaken });
  const oauth = createAzureOauth({ db, repo, users: deps.users, sealer, clock, oauthApps: options.oauthApps ?? {}, publicUrl: options.publicUrl, service: connections });
  return { repo, credentials, rotation, connections, oauth };
}

export type AzureModule = ReturnType<typeof createAzureModule>;
