/** Scope parsing of the v2.0 token and authorize endpoints. */
import { describe, expect, it } from 'vitest';
import { EntraError } from './errors.ts';
import { delegatedPermissions, parseScopes } from './scopes.ts';

describe('parseScopes', () => {
  it.each([
    ['ok/Graph .default', 'https://graph.microsoft.com/.default', true, { resource: 'https://graph.microsoft.com', permissions: ['.default'], offlineAccess: false, openid: false }],
    ['ok/Key Vault by first-party app id', 'cfa8b339-82a2-471a-a3c9-0fc0be7a4093/.default', true, { resource: 'https://vault.azure.net', permissions: ['.default'], offlineAccess: false, openid: false }],
    ['ok/double slash before .default', 'https://graph.microsoft.com//.default', true, { resource: 'https://graph.microsoft.com', permissions: ['.default'], offlineAccess: false, openid: false }],
    ['ok/bare Graph permissions with OIDC scopes', 'User.Read Application.ReadWrite.All offline_access openid', false, { resource: 'https://graph.microsoft.com', permissions: ['User.Read', 'Application.ReadWrite.All'], offlineAccess: true, openid: true }],
    ['ok/only OIDC scopes mean Graph User.Read', 'openid profile', false, { resource: 'https://graph.microsoft.com', permissions: ['User.Read'], offlineAccess: false, openid: true }],
  ])('%s', (_name, raw, clientCredentials, expected) => {
    expect(parseScopes(raw, 'contoso.onmicrosoft.com', clientCredentials)).toEqual(expected);
  });

  it.each([
    ['fail/client credentials without .default', 'https://graph.microsoft.com/User.Read', true, 1002012],
    ['fail/unknown resource', 'https://management.example/.default', true, 500011],
    ['fail/two resources in one request', 'https://graph.microsoft.com/User.Read https://vault.azure.net/user_impersonation', false, 28000],
    ['fail/no scope for client credentials', '', true, 900144],
  ])('%s', (_name, raw, clientCredentials, code) => {
    let caught: unknown;
    try {
      parseScopes(raw, 'contoso.onmicrosoft.com', clientCredentials);
    } catch (e) {
      caught = e;
    }
    expect(caught instanceof EntraError ? caught.code : caught).toBe(code);
  });

  it.each([
    ['ok/delegated Graph .default', 'https://graph.microsoft.com/.default', ['User.Read', 'Application.ReadWrite.All']],
    ['ok/delegated Key Vault .default', 'https://vault.azure.net/.default', ['user_impersonation']],
    ['ok/explicit permissions kept', 'https://vault.azure.net/user_impersonation', ['user_impersonation']],
  ])('%s', (_name, raw, expected) => {
    expect(delegatedPermissions(parseScopes(raw, 'contoso.onmicrosoft.com', false))).toEqual(expected);
  });
});
