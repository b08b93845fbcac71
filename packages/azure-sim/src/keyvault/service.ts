/**
 * One vault's origin: `api-version` check, the bearer challenge (`401` +
 * `WWW-Authenticate: Bearer authorization="{authority}/{tenant}", resource="https://vault.azure.net"`),
 * token checks (signature, audience, expiry, the vault's tenant), access policy, then the operation.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Directory } from '../directory.ts';
import { BodyTooLargeError, bearerToken, parseJsonObject, pathSegments, readBody, sendEmpty, sendJson } from '../http.ts';
import type { ServiceHandler } from '../server.ts';
import { VAULT_RESOURCE, type AccessTokenClaims, type TokenService } from '../tokens.ts';
import { certificateOperation } from './certificates.ts';
import { KeyVaultError, kvErrors, sendKvError, SUPPORTED_API_VERSIONS } from './errors.ts';
import type { Vault } from './store.ts';

const FAULTS: Record<number, () => KeyVaultError> = { 429: kvErrors.throttled, 503: kvErrors.unavailable, 500: kvErrors.internal };

export interface VaultServiceDeps {
  dir: Directory;
  tokens: TokenService;
  authorityHost: () => string;
}

function challenge(deps: VaultServiceDeps, vault: Vault): Record<string, string> {
  return { 'www-authenticate': `Bearer authorization="${deps.authorityHost()}/${vault.tenantId}", resource="${VAULT_RESOURCE}"` };
}

function authenticate(deps: VaultServiceDeps, vault: Vault, req: IncomingMessage): AccessTokenClaims {
  const token = bearerToken(req);
  if (!token) throw kvErrors.missingToken();
  const check = deps.tokens.verify(token, VAULT_RESOURCE);
  if (!check.ok) {
    if (check.reason === 'expired') throw kvErrors.expiredToken();
    if (check.reason === 'audience') throw kvErrors.badAudience('another resource');
    throw kvErrors.badToken();
  }
  if (check.claims.tid !== vault.tenantId) throw kvErrors.badIssuer(vault.tenantId);
  return check.claims;
}

export function createVaultService(deps: VaultServiceDeps, vault: Vault): ServiceHandler {
  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const apiVersion = url.searchParams.get('api-version');
    if (apiVersion === null || apiVersion === '') throw kvErrors.apiVersionMissing();
    if (!SUPPORTED_API_VERSIONS.includes(apiVersion)) throw kvErrors.apiVersionUnknown(apiVersion);
    const caller = authenticate(deps, vault, req);
    // A trailing slash names the latest version (`/certificates/web/`), as the SDK sends it.
    const parts = pathSegments(url.pathname);
    if (!parts) throw kvErrors.badName(url.pathname);
    if (parts[parts.length - 1] === '') parts.pop();
    const method = req.method ?? 'GET';
    let body: Record<string, unknown> | undefined;
    if (method === 'POST' || method === 'PATCH') {
      const raw = await readBody(req);
      body = parseJsonObject(raw);
      if (raw.length > 0 && !body) throw kvErrors.badBody('The request body is not valid JSON.');
    }
    const op = certificateOperation(vault, { method, parts, body });
    // Delegated calls are checked against the user's object id only; app-only ones against the service principal or its appId.
    const principals = caller.idtyp === 'user' ? [caller.oid] : [caller.oid, caller.appid];
    if (!vault.allows(principals, op.permission)) {
      throw kvErrors.forbidden(`appid=${caller.appid};oid=${caller.oid};iss=https://sts.windows.net/${caller.tid}/`, op.permission, vault.name);
    }
    const result = op.run();
    const headers = { 'x-ms-keyvault-service-version': '1.9.2497.1', 'x-ms-keyvault-region': 'westeurope' };
    if (result.body === undefined) sendEmpty(res, result.status, headers);
    else sendJson(res, result.status, result.body, headers);
  }

  return {
    service: 'vault',
    async handle(req, res, url) {
      try {
        await route(req, res, url);
      } catch (e) {
        if (e instanceof BodyTooLargeError) return sendKvError(res, new KeyVaultError(413, 'BadParameter', 'The request body is too large.'), { connection: 'close' });
        if (!(e instanceof KeyVaultError)) throw e;
        sendKvError(res, e, e.status === 401 ? challenge(deps, vault) : {});
      }
    },
    fault(_req, res, fault) {
      const status = fault.status ?? 500;
      const err = status === 403 ? kvErrors.forbidden('appid=unknown', 'get', vault.name) : (FAULTS[status] ?? kvErrors.internal)();
      sendKvError(res, err, status === 429 || status === 503 ? { 'retry-after': String(fault.retryAfterSeconds) } : {});
    },
  };
}
