/**
 * `certbridge-azure-sim --init <dir>`: writes a documented sample configuration with fresh ids
 * and secrets: one tenant, a Certbridge app allowed to rotate secrets and to use Key Vault, a
 * target app whose secret gets rotated, an OAuth app with Certbridge's callback, two users
 * (one who declines consent) and a vault.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { newClientSecret } from './directory.ts';
import type { SimConfig } from './config.ts';

export interface InitResult {
  configPath: string;
  config: SimConfig;
}

export async function initSample(dir: string): Promise<InitResult> {
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  const tenantId = randomUUID();
  const certbridge = randomUUID();
  const config: SimConfig = {
    $comment: [
      'certbridge-azure-sim sample. Run: certbridge-azure-sim --config <this file>.',
      'tenants[].apps[]: app registrations. secrets work as client_secret at /{tenant}/oauth2/v2.0/token;',
      'graphRoles are Microsoft Graph application permissions; owners lists appIds owning the app (Application.ReadWrite.OwnedBy).',
      'tenants[].users[]: who signs in at /authorize (login_hint picks one); consent "deny" answers access_denied.',
      'tenants[].vaults[]: Key Vaults, each on its own port; access grants certificate permissions to an appId or object id.',
      'propagationDelayMs: secrets created through Graph addPassword work only after this delay.',
      'adminToken: bearer token of the admin API at <authority>/sim/ (calls, faults, time, propagation, apps, consent, vault certificates).',
      'Clients: authorityHost = https://127.0.0.1:<port>, disableInstanceDiscovery: true, and trust ca.pem (written beside this file).',
    ],
    host: '127.0.0.1',
    port: 9444,
    graphPort: 9445,
    propagationDelayMs: 0,
    adminToken: randomBytes(24).toString('base64url'),
    tenants: [{
      id: tenantId,
      domain: 'contoso.onmicrosoft.com',
      apps: [
        { appId: certbridge, displayName: 'certbridge', redirectUris: [], graphRoles: ['Application.ReadWrite.All'], owners: [], secrets: [{ secret: newClientSecret(), displayName: 'initial' }], certificates: [] },
        { appId: randomUUID(), displayName: 'payroll', redirectUris: [], graphRoles: [], owners: [certbridge], secrets: [{ secret: newClientSecret(), displayName: 'to-rotate' }], certificates: [] },
        { appId: randomUUID(), displayName: 'certbridge-oauth', redirectUris: ['https://localhost:8443/api/v1/connections/azure/oauth/callback'], graphRoles: [], owners: [], secrets: [{ secret: newClientSecret(), displayName: 'oauth' }], certificates: [] },
      ],
      users: [
        { userPrincipalName: 'alice@contoso.onmicrosoft.com', displayName: 'Alice', consent: 'grant' },
        { userPrincipalName: 'bob@contoso.onmicrosoft.com', displayName: 'Bob', consent: 'deny' },
      ],
      vaults: [{ name: 'certbridge-kv', port: 9446, access: [{ principal: certbridge }] }],
    }],
  };
  const configPath = join(root, 'azure-sim.json');
  await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return { configPath, config };
}
