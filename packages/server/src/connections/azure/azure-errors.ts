import type { AzureMethod } from './azure-tables.ts';

/** What Certbridge asks Graph or Key Vault for; each has its own missing-permission text. */
export type AzureOperation = 'graph.getApplication' | 'graph.me' | 'graph.addPassword' | 'graph.removePassword' | 'keyvault.listCertificates';

/** Whose permissions the token carries: the app's own (client credentials) or a signed-in user's. */
export type TokenKind = 'application' | 'delegated';
export const tokenKindOf = (method: AzureMethod): TokenKind => (method === 'oauth' ? 'delegated' : 'application');

const APP_WRITE = 'the Microsoft Graph application permission Application.ReadWrite.OwnedBy (with the app registered as an owner of itself) or Application.ReadWrite.All, granted with admin consent';
const DELEGATED_WRITE = 'the delegated Microsoft Graph permission Application.ReadWrite.All or Directory.ReadWrite.All, and a user who may manage this app registration (an owner, or Application Administrator)';
const VAULT = {
  application: "certificate permissions on the vault: the role 'Key Vault Certificates Officer' (Azure RBAC) or an access policy with certificate get, list, import, update and delete for this app",
  delegated: "the delegated Azure Key Vault permission user_impersonation consented for Certbridge's app, and for the signed-in user the role 'Key Vault Certificates Officer' (Azure RBAC) or an access policy with certificate get, list, import, update and delete",
};

/**
 * The permission a 403 means, per operation and token kind (Microsoft Graph permissions
 * reference; Key Vault RBAC guide). One row per case, each tested in azure-errors.test.ts.
 */
export const MISSING_PERMISSION: Record<AzureOperation, Record<TokenKind, string>> = {
  'graph.getApplication': { application: APP_WRITE, delegated: DELEGATED_WRITE },
  'graph.addPassword': { application: APP_WRITE, delegated: DELEGATED_WRITE },
  'graph.removePassword': { application: APP_WRITE, delegated: DELEGATED_WRITE },
  'graph.me': { application: 'a signed-in user (GET /me needs a delegated token; client credentials have no user)', delegated: 'the delegated Microsoft Graph permission User.Read' },
  'keyvault.listCertificates': VAULT,
};

/** A failed Graph or Key Vault call, with the service's own error code and, for 403, the missing permission. */
export class AzureCallError extends Error {
  readonly operation: AzureOperation;
  readonly status: number;
  readonly azureCode: string | undefined;
  readonly missingPermission: string | undefined;

  constructor(operation: AzureOperation, status: number, azureCode: string | undefined, azureMessage: string, kind: TokenKind) {
    const missing = status === 403 ? MISSING_PERMISSION[operation][kind] : undefined;
    super(missing
      ? `${operation} was refused (403${azureCode ? ` ${azureCode}` : ''}): the connection needs ${missing}. Azure said: ${azureMessage}`
      : `${operation} failed with HTTP ${status}${azureCode ? ` ${azureCode}` : ''}: ${azureMessage}`);
    this.name = 'AzureCallError';
    this.operation = operation;
    this.status = status;
    this.azureCode = azureCode;
    this.missingPermission = missing;
  }

  /** Throttling and outages: worth a retry later. */
  get retryable(): boolean {
    return this.status === 429 || this.status >= 500;
  }
}

/** Reads `{"error":{"code","message"}}`, the error body of both Graph and Key Vault. */
export function azureErrorOf(body: unknown): { code: string | undefined; message: string } {
  const error = (body as { error?: { code?: unknown; message?: unknown; innererror?: { code?: unknown } } } | undefined)?.error;
  const inner = typeof error?.innererror?.code === 'string' ? ` (${error.innererror.code})` : '';
  return {
    code: typeof error?.code === 'string' ? error.code : undefined,
    message: typeof error?.message === 'string' ? `${error.message}${inner}` : 'no error message in the answer',
  };
}

/** A short, secret-free description of any failure for the API and the audit log. */
export const describeError = (err: unknown): string => (err instanceof Error ? err.message.split('\n')[0]!.slice(0, 500) : String(err));
