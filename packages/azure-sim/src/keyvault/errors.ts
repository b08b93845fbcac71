/**
 * Key Vault error responses: `{"error":{"code","message","innererror"?}}` with Key Vault's
 * response headers; 401s carry the bearer challenge the SDKs authenticate from.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { sendJson } from '../http.ts';

export class KeyVaultError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly innerCode?: string,
  ) {
    super(message);
  }
}

export const SUPPORTED_API_VERSIONS = ['7.0', '7.1', '7.2', '7.3', '7.4', '7.5', '7.6', '2025-07-01'];
const LATEST = SUPPORTED_API_VERSIONS[SUPPORTED_API_VERSIONS.length - 1];

export const kvErrors = {
  apiVersionMissing: () => new KeyVaultError(400, 'BadParameter', "The 'api-version' query parameter is missing."),
  apiVersionUnknown: (v: string) => new KeyVaultError(400, 'BadParameter', `The specified version (${v}) is not recognized. Consider using the latest supported version (${LATEST}).`),
  badName: (name: string) => new KeyVaultError(400, 'BadParameter', `The request URI contains an invalid name: ${name}`),
  badBody: (what: string) => new KeyVaultError(400, 'BadParameter', what),
  notFound: (nameOrId: string) =>
    new KeyVaultError(404, 'CertificateNotFound', `A certificate with (name/id) ${nameOrId} was not found in this key vault. If you recently deleted this certificate you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`),
  deletedNotFound: (name: string) => new KeyVaultError(404, 'CertificateNotFound', `Deleted Certificate not found: ${name}`),
  deletedButRecoverable: (name: string) =>
    new KeyVaultError(409, 'Conflict', `Certificate ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the certificate can only be recovered or purged.`, 'ObjectIsDeletedButRecoverable'),
  pkcs12Unreadable: () => new KeyVaultError(400, 'BadParameter', 'The specified PKCS#12 X.509 certificate content can not be read. Please check if certificate is in valid PKCS#12 format.'),
  pemNoKey: () => new KeyVaultError(400, 'BadParameter', 'Private key is not specified in the specified X.509 PEM certificate content. Please specify private key in the X.509 PEM certificate content.'),
  missingToken: () => new KeyVaultError(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.'),
  badToken: () => new KeyVaultError(401, 'Unauthorized', 'AKV10013: Invalid token signature.'),
  expiredToken: () => new KeyVaultError(401, 'Unauthorized', 'AKV10022: Invalid token, the token has expired.'),
  badAudience: (aud: string) => new KeyVaultError(401, 'Unauthorized', `AKV10022: Invalid audience. Expected https://vault.azure.net, found: ${aud}.`),
  badIssuer: (expected: string) => new KeyVaultError(401, 'Unauthorized', `AKV10032: Invalid issuer. Expected one of https://sts.windows.net/${expected}/, found a token for another tenant.`),
  forbidden: (principal: string, permission: string, vault: string) =>
    new KeyVaultError(403, 'Forbidden', `The user, group or application '${principal}' does not have certificates ${permission} permission on key vault '${vault};location=westeurope'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287`, 'AccessDenied'),
  noRoute: () => new KeyVaultError(404, 'NotFound', 'The requested resource is not found.'),
  methodNotAllowed: () => new KeyVaultError(405, 'MethodNotAllowed', 'The requested HTTP method is not allowed for this resource.'),
  throttled: () => new KeyVaultError(429, 'Throttled', 'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached'),
  unavailable: () => new KeyVaultError(503, 'ServiceUnavailable', 'The service is temporarily unavailable. Please retry later.'),
  internal: () => new KeyVaultError(500, 'InternalServerError', 'An unexpected error occurred.'),
} as const;

export function sendKvError(res: ServerResponse, e: KeyVaultError, headers: Record<string, string> = {}): void {
  const body: Record<string, unknown> = { code: e.code, message: e.message };
  if (e.innerCode) body.innererror = { code: e.innerCode };
  sendJson(res, e.status, { error: body }, { 'x-ms-request-id': randomUUID(), 'x-ms-keyvault-service-version': '1.9.2497.1', 'x-ms-keyvault-region': 'westeurope', ...headers });
}
