import { createRequire } from 'node:module';
import type * as CoreRestPipeline from '@azure/core-rest-pipeline';
import type * as Identity from '@azure/identity';
import type * as KeyVaultCertificates from '@azure/keyvault-certificates';
import type * as MsalNode from '@azure/msal-node';

/**
 * The official Azure SDKs, loaded on first use. Together they hold ~25-30 MB of resident memory
 * (bench/memory.ts) that an installation without Azure connections would carry for nothing, and
 * their constructors are called from synchronous code (credentials, vault clients), so they are
 * required synchronously (their CommonJS builds) instead of imported at start. Every value of
 * these packages in the server comes through here, so instanceof checks (RestError,
 * AuthenticationError) compare classes of the same copy.
 */
const requireSdk = createRequire(import.meta.url);

function lazily<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= requireSdk(name) as T);
}

export const identitySdk = lazily<typeof Identity>('@azure/identity');
export const keyVaultCertificatesSdk = lazily<typeof KeyVaultCertificates>('@azure/keyvault-certificates');
export const msalSdk = lazily<typeof MsalNode>('@azure/msal-node');
export const restPipelineSdk = lazily<typeof CoreRestPipeline>('@azure/core-rest-pipeline');
