import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/config.ts';
import { KNOWN_CLOUDS, resolveCloud, resources, vaultUrl } from './azure-clouds.ts';
import { AzureCallError, MISSING_PERMISSION, azureErrorOf, type AzureOperation, type TokenKind } from './azure-errors.ts';

describe('403 names the missing permission', () => {
  const cases = (Object.entries(MISSING_PERMISSION) as [AzureOperation, Record<TokenKind, string>][])
    .flatMap(([op, kinds]) => (Object.keys(kinds) as TokenKind[]).map((kind) => [op, kind] as const));
  const expected: Record<string, string> = {
    'graph.getApplication/application': 'Application.ReadWrite.OwnedBy',
    'graph.getApplication/delegated': 'Directory.ReadWrite.All',
    'graph.addPassword/application': 'Application.ReadWrite.All',
    'graph.addPassword/delegated': 'Application.ReadWrite.All',
    'graph.removePassword/application': 'Application.ReadWrite.OwnedBy',
    'graph.removePassword/delegated': 'Directory.ReadWrite.All',
    'graph.me/application': 'GET /me needs a delegated token',
    'graph.me/delegated': 'User.Read',
    'keyvault.listCertificates/application': 'Key Vault Certificates Officer',
    'keyvault.listCertificates/delegated': 'user_impersonation',
  };
  it.each(cases)('ok/%s with a %s token', (op, kind) => {
    const err = new AzureCallError(op, 403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.', kind);
    expect({ missing: err.missingPermission?.includes(expected[`${op}/${kind}`]!), retryable: err.retryable, message: err.message.startsWith(`${op} was refused (403 Authorization_RequestDenied): the connection needs `) })
      .toEqual({ missing: true, retryable: false, message: true });
  });

  it.each([
    [429, true, 'graph.addPassword failed with HTTP 429 TooManyRequests: slow down'],
    [503, true, 'graph.addPassword failed with HTTP 503 TooManyRequests: slow down'],
    [400, false, 'graph.addPassword failed with HTTP 400 TooManyRequests: slow down'],
  ])('ok/status %i is not a permission problem (retryable %s)', (status, retryable, message) => {
    const err = new AzureCallError('graph.addPassword', status, 'TooManyRequests', 'slow down', 'application');
    expect({ missing: err.missingPermission, retryable: err.retryable, message: err.message }).toEqual({ missing: undefined, retryable, message });
  });

  it.each([
    ['ok/graph body', { error: { code: 'Request_ResourceNotFound', message: 'gone' } }, { code: 'Request_ResourceNotFound', message: 'gone' }],
    ['ok/key vault body with innererror', { error: { code: 'Forbidden', message: 'denied', innererror: { code: 'AccessDenied' } } }, { code: 'Forbidden', message: 'denied (AccessDenied)' }],
    ['fail/not an error body', 'html', { code: undefined, message: 'no error message in the answer' }],
  ])('%s', (_name, body, expected) => {
    expect(azureErrorOf(body)).toEqual(expected);
  });
});

describe('clouds', () => {
  it.each([
    ['ok/public by default', {}, KNOWN_CLOUDS.public.graphUrl, 'https://{vault}.vault.azure.net', 'https://vault.azure.net'],
    ['ok/US Gov', { authorityHost: 'https://login.microsoftonline.us/' }, 'https://graph.microsoft.us', 'https://{vault}.vault.usgovcloudapi.net', 'https://vault.usgovcloudapi.net'],
    ['ok/China', { authorityHost: 'https://login.chinacloudapi.cn' }, 'https://microsoftgraph.chinacloudapi.cn', 'https://{vault}.vault.azure.cn', 'https://vault.azure.cn'],
    ['ok/custom with its own Graph, public resources', { authorityHost: 'https://127.0.0.1:9000', graphUrl: 'https://127.0.0.1:9001/' }, 'https://127.0.0.1:9001', null, 'https://vault.azure.net'],
  ])('%s', (_name, input, graphUrl, template, vaultResource) => {
    const cloud = resolveCloud(input);
    expect({ graphUrl: cloud.graphUrl, template: cloud.vaultUrlTemplate, vault: resources(cloud.authorityHost).vault }).toEqual({ graphUrl, template, vault: vaultResource });
  });

  it.each([
    ['ok/name in the template', 'https://{vault}.vault.azure.net', 'My-Vault1', 'https://my-vault1.vault.azure.net'],
    ['ok/full URL as given', null, 'https://127.0.0.1:9443/', 'https://127.0.0.1:9443'],
    ['fail/name too short', 'https://{vault}.vault.azure.net', 'ab', 'is not a Key Vault name or https URL'],
    ['fail/double dash', 'https://{vault}.vault.azure.net', 'my--vault', 'is not a Key Vault name or https URL'],
    ['fail/name without a template', null, 'my-vault', 'has no vault URL template'],
  ])('%s', (_name, template, vault, expected) => {
    if (expected.startsWith('https://')) expect(vaultUrl(template, vault)).toBe(expected);
    else expect(() => vaultUrl(template, vault)).toThrow(expected);
  });
});

describe('configuration', () => {
  it('ok/both OAuth apps', () => {
    const c = loadConfig({ CERTBRIDGE_AZURE_CLIENT_SECRETS_OAUTH_CLIENT_ID: 'a', CERTBRIDGE_AZURE_CLIENT_SECRETS_OAUTH_CLIENT_SECRET: 'b', CERTBRIDGE_AZURE_KEY_VAULT_OAUTH_CLIENT_ID: 'c', CERTBRIDGE_AZURE_KEY_VAULT_OAUTH_CLIENT_SECRET: 'd' });
    expect(c.azureOauth).toEqual({ 'azure-client-secrets': { clientId: 'a', clientSecret: 'b' }, 'azure-key-vault': { clientId: 'c', clientSecret: 'd' } });
  });
  it('fail/an id without its secret names the variable', () => {
    expect(() => loadConfig({ CERTBRIDGE_AZURE_KEY_VAULT_OAUTH_CLIENT_ID: 'c' }))
      .toThrow('invalid configuration: CERTBRIDGE_AZURE_KEY_VAULT_OAUTH_CLIENT_SECRET: set together with CERTBRIDGE_AZURE_KEY_VAULT_OAUTH_CLIENT_ID');
  });
});
