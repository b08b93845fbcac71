import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { startAzureSim, type AzureSim } from '@certbridge/azure-sim';
import type { TestEnv } from './helpers.ts';
import { bearer } from './helpers.ts';

/** Where Certbridge's test app listens (createTestEnv's publicUrl): the OAuth redirect URI base. */
export const PUBLIC_URL = 'https://certbridge.test';
export const REDIRECT_URI = `${PUBLIC_URL}/api/v1/connections/azure/oauth/callback`;

/** An emulated tenant with Certbridge's OAuth apps and a user, as an Entra admin would set it up. */
export interface AzureWorld {
  sim: AzureSim;
  tenantId: string;
  oauthApps: { 'azure-client-secrets': { clientId: string; clientSecret: string }; 'azure-key-vault': { clientId: string; clientSecret: string } };
  /** Object id of alice, who grants consent (mallory denies it). */
  aliceId: string;
  close(): Promise<void>;
}

export async function startAzureWorld(): Promise<AzureWorld> {
  const sim = await startAzureSim();
  const tenant = sim.admin.addTenant({ domain: 'contoso.onmicrosoft.com' });
  const oauthApp = (displayName: string) => {
    const app = sim.admin.addApp(tenant.id, { displayName, redirectUris: [REDIRECT_URI] });
    return { clientId: app.appId, clientSecret: sim.admin.addPassword(app.appId).secret };
  };
  const oauthApps = { 'azure-client-secrets': oauthApp('Certbridge (app secrets)'), 'azure-key-vault': oauthApp('Certbridge (Key Vault)') };
  const alice = sim.admin.addUser(tenant.id, { userPrincipalName: 'alice@contoso.onmicrosoft.com', displayName: 'Alice', consent: 'grant' });
  sim.admin.addUser(tenant.id, { userPrincipalName: 'mallory@contoso.onmicrosoft.com', displayName: 'Mallory', consent: 'deny' });
  return { sim, tenantId: tenant.id, oauthApps, aliceId: alice.objectId, close: () => sim.close() };
}

/** An app registration that manages its own secrets (Application.ReadWrite.OwnedBy, owner of itself). */
export function selfManagingApp(world: AzureWorld, roles: string[] = ['Application.ReadWrite.OwnedBy']) {
  const app = world.sim.admin.addApp(world.tenantId, { displayName: `rotating-${Math.random().toString(36).slice(2, 8)}`, graphRoles: roles });
  world.sim.admin.addOwner(app.appId, app.appId);
  const password = world.sim.admin.addPassword(app.appId, { displayName: 'initial' });
  return { appId: app.appId, keyId: password.keyId, secret: password.secret };
}

/** The emulator's endpoints as a connection's cloud settings. */
export const cloudOf = (world: AzureWorld) => ({ authorityHost: world.sim.authorityHost, caPem: world.sim.caPem, graphUrl: world.sim.graphUrl });

/** A throwaway RSA certificate and key (openssl), for the certificate method. */
export function rsaCertificate(cn: string): { certPem: string; keyPem: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cb-azure-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem'), '-subj', `/CN=${cn}`, '-days', '30'], { stdio: 'ignore' });
    return { certPem: fs.readFileSync(path.join(dir, 'c.pem'), 'utf8'), keyPem: fs.readFileSync(path.join(dir, 'k.pem'), 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Plays the browser on the emulated authorize endpoint: answers the redirect it sends back. */
export function followAuthorize(world: AzureWorld, authorizeUrl: string): Promise<URL> {
  return new Promise((resolve, reject) => {
    https.get(authorizeUrl, { ca: world.sim.caPem }, (res) => {
      res.resume();
      if (res.statusCode !== 302 || !res.headers.location) reject(new Error(`authorize answered ${res.statusCode}`));
      else resolve(new URL(res.headers.location));
    }).on('error', reject);
  });
}

export const api = (env: TestEnv, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
  env.app.inject({ method, url, headers: bearer(env.adminToken), ...(payload ? { payload } : {}) });
