import https from 'node:https';
import { agentPolicy, type PipelinePolicy } from '@azure/core-rest-pipeline';
import { AppError } from '../../errors.ts';

/** The endpoints of one Azure cloud: where tokens come from and which resources they are for. */
export interface AzureCloud {
  authorityHost: string;
  graphUrl: string;
  /** Key Vault URL with `{vault}` in place of the vault name. */
  vaultUrlTemplate: string;
}

/**
 * National clouds (Microsoft Learn "National clouds": Entra authentication, Microsoft Graph and
 * Key Vault endpoints). A host not listed is a custom authority (the emulator, Azure Stack): its
 * Graph and Key Vault URLs must then be given explicitly.
 */
export const KNOWN_CLOUDS: Record<'public' | 'usgov' | 'china', AzureCloud> = {
  public: { authorityHost: 'https://login.microsoftonline.com', graphUrl: 'https://graph.microsoft.com', vaultUrlTemplate: 'https://{vault}.vault.azure.net' },
  usgov: { authorityHost: 'https://login.microsoftonline.us', graphUrl: 'https://graph.microsoft.us', vaultUrlTemplate: 'https://{vault}.vault.usgovcloudapi.net' },
  china: { authorityHost: 'https://login.chinacloudapi.cn', graphUrl: 'https://microsoftgraph.chinacloudapi.cn', vaultUrlTemplate: 'https://{vault}.vault.azure.cn' },
};

const trimSlash = (u: string) => u.replace(/\/+$/, '');

/** The known cloud an authority host belongs to, if any. */
export function knownCloud(authorityHost: string): AzureCloud | undefined {
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
  const vaultUrlTemplate = input.vaultUrlTemplate ? trimSlash(input.vaultUrlTemplate) : known?.vaultUrlTemplate;
  if (!graphUrl || !vaultUrlTemplate) {
    throw new AppError('VALIDATION_FAILED', `authorityHost ${authorityHost} is not a known Azure cloud: give graphUrl and vaultUrlTemplate too`, { field: graphUrl ? 'vaultUrlTemplate' : 'graphUrl' });
  }
  if (!vaultUrlTemplate.includes('{vault}')) throw new AppError('VALIDATION_FAILED', 'vaultUrlTemplate must contain {vault}', { field: 'vaultUrlTemplate' });
  return { authorityHost, graphUrl, vaultUrlTemplate };
}

/** Key Vault names: 3–24 characters, letters, digits and dashes, starting with a letter. */
export const VAULT_NAME = /^[A-Za-z](?:[A-Za-z0-9]|-(?!-)){1,22}[A-Za-z0-9]$/;

export function vaultUrl(template: string, vaultName: string): string {
  if (!VAULT_NAME.test(vaultName)) throw new AppError('VALIDATION_FAILED', `${JSON.stringify(vaultName)} is not a Key Vault name`, { field: 'vault' });
  return template.replace('{vault}', vaultName.toLowerCase());
}

/** Scopes of a resource for app-only (client credentials) tokens. */
export const defaultScope = (resourceUrl: string) => `${new URL(resourceUrl).origin}/.default`;

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
  return { agent, policies: [{ policy: agentPolicy(agent), position: 'perCall' }] };
}
