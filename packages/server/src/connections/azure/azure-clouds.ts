import https from 'node:https';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { restPipelineSdk } from './azure-sdk.ts';
import { AppError } from '../../errors.ts';

/** The endpoints of one Azure cloud: where tokens come from and which resources they are for. */
export interface AzureCloud {
  authorityHost: string;
  graphUrl: string;
  /** Key Vault URL with `{vault}` in place of the vault name; null when vaults are given by URL. */
  vaultUrlTemplate: string | null;
}

/**
 * National clouds (Microsoft Learn "National clouds": Entra authentication, Microsoft Graph and
 * Key Vault endpoints). A host not listed is a custom authority (the emulator, Azure Stack): its
 * Graph and Key Vault URLs must then be given explicitly.
 */
export const KNOWN_CLOUDS: Record<'public' | 'usgov' | 'china', AzureCloud & { vaultResource: string }> = {
  public: { authorityHost: 'https://login.microsoftonline.com', graphUrl: 'https://graph.microsoft.com', vaultUrlTemplate: 'https://{vault}.vault.azure.net', vaultResource: 'https://vault.azure.net' },
  usgov: { authorityHost: 'https://login.microsoftonline.us', graphUrl: 'https://graph.microsoft.us', vaultUrlTemplate: 'https://{vault}.vault.usgovcloudapi.net', vaultResource: 'https://vault.usgovcloudapi.net' },
  china: { authorityHost: 'https://login.chinacloudapi.cn', graphUrl: 'https://microsoftgraph.chinacloudapi.cn', vaultUrlTemplate: 'https://{vault}.vault.azure.cn', vaultResource: 'https://vault.azure.cn' },
};

/**
 * The resource identifiers tokens are requested for. A custom authority (the emulator) serves
 * Graph and Key Vault at URLs of its own but issues tokens for the public cloud's resources.
 */
export function resources(authorityHost: string): { graph: string; vault: string } {
  const cloud = knownCloud(authorityHost) ?? KNOWN_CLOUDS.public;
  return { graph: cloud.graphUrl, vault: cloud.vaultResource };
}

const trimSlash = (u: string) => u.replace(/\/+$/, '');

/** The known cloud an authority host belongs to, if any. */
export function knownCloud(authorityHost: string): (AzureCloud & { vaultResource: string }) | undefined {
  const host = trimSlash(authorityHost).toLowerCase();
  return Object.values(KNOWN_CLOUDS).find((c) => c.authorityHost === host);
}

/**
 * The cloud of a connection: a known authority host fills in Graph and Key Vault; a custom one
 * needs both (and must be https, since client secrets and assertions travel to it).
 */
export function resolveCloud(input: { authorityHost?: string | undefined; graphUrl?: string | undefined; vaultUrlTemplate?: string | undefined }): AzureCloud {
  const authorityHost = trimSlash(input.authorityHost ?? KNOWN_CLOUDS.public.authorityHost);
  for (const [field, value] of [['authorityHost', authorityHost], ['graphUrl', input.graphUrl], ['vaultUrlTemplate', input.vaultUrlTemplate]] as const) {
    if (value === undefined) continue;
    let url: URL;
    try {
      url = new URL(value.replace('{vault}', 'vault'));
    } catch {
      throw new AppError('VALIDATION_FAILED', `${field} ${JSON.stringify(value)} is not a URL`, { field });
    }
    if (url.protocol !== 'https:') throw new AppError('VALIDATION_FAILED', `${field} must be an https:// URL (tokens and secrets travel over it)`, { field });
  }
  const known = knownCloud(authorityHost);
  const graphUrl = input.graphUrl ? trimSlash(input.graphUrl) : known?.graphUrl;
  const vaultUrlTemplate = input.vaultUrlTemplate ? trimSlash(input.vaultUrlTemplate) : known?.vaultUrlTemplate ?? null;
  if (!graphUrl) throw new AppError('VALIDATION_FAILED', `authorityHost ${authorityHost} is not a known Azure cloud: give graphUrl too`, { field: 'graphUrl' });
  if (vaultUrlTemplate && !vaultUrlTemplate.includes('{vault}')) throw new AppError('VALIDATION_FAILED', 'vaultUrlTemplate must contain {vault}', { field: 'vaultUrlTemplate' });
  return { authorityHost, graphUrl, vaultUrlTemplate };
}

/** Key Vault names: 3–24 characters, letters, digits and dashes, starting with a letter. */
export const VAULT_NAME = /^[A-Za-z](?:[A-Za-z0-9]|-(?!-)){1,22}[A-Za-z0-9]$/;

/**
 * A vault's URL from its name and the cloud's template, or a full https URL as given (custom
 * clouds such as the emulator serve each vault on an origin of its own).
 */
export function vaultUrl(template: string | null, vault: string): string {
  if (vault.startsWith('https://')) {
    try {
      return trimSlash(new URL(vault).toString());
    } catch {
      throw new AppError('VALIDATION_FAILED', `${JSON.stringify(vault)} is not a vault URL`, { field: 'vault' });
    }
  }
  if (!VAULT_NAME.test(vault)) throw new AppError('VALIDATION_FAILED', `${JSON.stringify(vault)} is not a Key Vault name or https URL`, { field: 'vault' });
  if (!template) throw new AppError('VALIDATION_FAILED', `this connection's cloud has no vault URL template: give the vault's https URL`, { field: 'vault' });
  return template.replace('{vault}', vault.toLowerCase());
}

/**
 * TLS trust for one connection: an https.Agent with the connection's CA PEM (custom authority
 * hosts such as the emulator), shared by the identity client, Graph and Key Vault requests.
 */
export interface AzureTransport {
  agent: https.Agent | undefined;
  /** Azure SDK pipeline policies that route requests through `agent`. */
  policies: { policy: PipelinePolicy; position: 'perCall' }[];
}

export function azureTransport(caPem: string | null): AzureTransport {
  if (!caPem) return { agent: undefined, policies: [] };
  const agent = new https.Agent({ ca: caPem, keepAlive: true, maxSockets: 8 });
  return { agent, policies: [{ policy: restPipelineSdk().agentPolicy(agent), position: 'perCall' }] };
}
