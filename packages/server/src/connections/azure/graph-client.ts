import type { TokenCredential } from '@azure/core-auth';
import type https from 'node:https';
import { AzureCallError, azureErrorOf, type AzureOperation, type TokenKind } from './azure-errors.ts';
import { httpsJson } from './https-json.ts';

/** The fields of a Graph application object Certbridge reads (Graph v1.0 `application`). */
export interface GraphApplication {
  id: string;
  appId: string;
  displayName: string;
  passwordCredentials: { keyId: string; displayName: string | null; hint: string | null; endDateTime: string }[];
}

/** Graph `passwordCredential` as addPassword answers it: the only time `secretText` is shown. */
export interface NewPasswordCredential {
  keyId: string;
  secretText: string;
  displayName: string | null;
  endDateTime: string;
}

/**
 * The few Microsoft Graph v1.0 calls of Azure connections: get an application by its appId
 * (alternate key `applications(appId='…')`), `me`, `addPassword` and `removePassword`.
 * Tokens come from the connection's credential for `${graphResource}/.default` (app-only) or the
 * delegated scopes its OAuth grant holds.
 */
export function createGraphClient(opts: { graphUrl: string; graphResource: string; credential: TokenCredential; kind: TokenKind; agent: https.Agent | undefined }) {
  const scope = `${opts.graphResource}/.default`;
  async function call<T>(operation: AzureOperation, method: string, path: string, body?: unknown): Promise<T> {
    const token = await opts.credential.getToken(scope);
    if (!token) throw new Error('the credential returned no token for Microsoft Graph');
    const res = await httpsJson(method, `${opts.graphUrl}/v1.0${path}`, {
      agent: opts.agent,
      headers: { authorization: `Bearer ${token.token}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (res.status >= 200 && res.status < 300) return res.body as T;
    const { code, message } = azureErrorOf(res.body);
    throw new AzureCallError(operation, res.status, code, message, opts.kind);
  }
  const appPath = (appId: string) => `/applications(appId='${encodeURIComponent(appId)}')`;
  return {
    getApplication: (appId: string) =>
      call<GraphApplication>('graph.getApplication', 'GET', `${appPath(appId)}?$select=id,appId,displayName,passwordCredentials`),
    me: () => call<{ id: string; userPrincipalName: string; displayName: string }>('graph.me', 'GET', '/me?$select=id,userPrincipalName,displayName'),
    addPassword: (objectId: string, displayName: string, endDateTime: Date) =>
      call<NewPasswordCredential>('graph.addPassword', 'POST', `/applications/${encodeURIComponent(objectId)}/addPassword`, { passwordCredential: { displayName, endDateTime: endDateTime.toISOString() } }),
    removePassword: (objectId: string, keyId: string) =>
      call<void>('graph.removePassword', 'POST', `/applications/${encodeURIComponent(objectId)}/removePassword`, { keyId }),
  };
}

export type GraphClient = ReturnType<typeof createGraphClient>;
