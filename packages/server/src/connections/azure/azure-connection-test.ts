import { keyVaultCertificatesSdk, restPipelineSdk } from './azure-sdk.ts';
import type { AzureConnectionCredential } from './azure-credentials.ts';
import { AzureCallError, describeError, tokenKindOf } from './azure-errors.ts';
import type { AzureConnectionType } from './azure-tables.ts';
import { createGraphClient } from './graph-client.ts';

export interface AzureTestStep {
  step: 'token' | 'graph' | 'key-vault';
  ok: boolean;
  detail: string;
  /** HTTP status of the failed call, when there was one. */
  status?: number;
  /** For a 403: the permission the connection lacks. */
  missingPermission?: string;
}

/** What `POST /connections/{id}/test` answers for an Azure connection: each step in order. */
export interface AzureTestReport {
  connectionId: string;
  type: AzureConnectionType;
  method: string;
  ok: boolean;
  steps: AzureTestStep[];
}

function failedStep(step: AzureTestStep['step'], err: unknown): AzureTestStep {
  if (err instanceof AzureCallError) {
    return { step, ok: false, detail: err.message, status: err.status, ...(err.missingPermission ? { missingPermission: err.missingPermission } : {}) };
  }
  return { step, ok: false, detail: describeError(err) };
}

/** The one harmless call per connection type (Graph read, or a one-item Key Vault listing). */
const PROBES = {
  'azure-client-secrets': async (cc: AzureConnectionCredential): Promise<AzureTestStep> => {
    const kind = tokenKindOf(cc.connection.method);
    const graph = createGraphClient({ graphUrl: cc.cloud.graphUrl, graphResource: cc.resources.graph, credential: cc.credential, kind, agent: cc.transport.agent });
    if (kind === 'delegated') {
      const me = await graph.me();
      return { step: 'graph', ok: true, detail: `GET /me: signed in as ${me.userPrincipalName}` };
    }
    const app = await graph.getApplication(cc.connection.clientId);
    return { step: 'graph', ok: true, detail: `GET application ${app.appId}: "${app.displayName}" with ${app.passwordCredentials.length} client secret(s)` };
  },
  'azure-key-vault': async (cc: AzureConnectionCredential): Promise<AzureTestStep> => {
    const url = cc.vaultUrlFor();
    const client = new (keyVaultCertificatesSdk().CertificateClient)(url, cc.credential, cc.clientOptions);
    try {
      const page = await client.listPropertiesOfCertificates().byPage({ maxPageSize: 1 }).next();
      const n = page.done ? 0 : page.value.length;
      return { step: 'key-vault', ok: true, detail: `listed certificates of ${url} (maxresults=1): ${n} returned` };
    } catch (err) {
      if (err instanceof restPipelineSdk().RestError && err.statusCode) {
        const body = err.message;
        throw new AzureCallError('keyvault.listCertificates', err.statusCode, err.code, body, tokenKindOf(cc.connection.method));
      }
      throw err;
    }
  },
} satisfies Record<AzureConnectionType, (cc: AzureConnectionCredential) => Promise<AzureTestStep>>;

/**
 * Test connection: acquire a token for the resource, then make one read-only call. A step that
 * fails ends the test; its detail names the missing permission when Azure answered 403.
 */
export async function testAzureConnection(cc: AzureConnectionCredential): Promise<AzureTestReport> {
  const steps: AzureTestStep[] = [];
  const report = (): AzureTestReport => ({ connectionId: cc.connection.id, type: cc.connection.type, method: cc.connection.method, ok: steps.every((s) => s.ok), steps });
  const resource = cc.connection.type === 'azure-key-vault' ? cc.resources.vault : cc.resources.graph;
  try {
    const token = await cc.credential.getToken(`${resource}/.default`);
    if (!token) throw new Error('the credential returned no token');
    steps.push({ step: 'token', ok: true, detail: `token for ${resource} from ${cc.cloud.authorityHost}, valid until ${new Date(token.expiresOnTimestamp).toISOString()}` });
  } catch (err) {
    steps.push(failedStep('token', err));
    return report();
  }
  const probeStep = cc.connection.type === 'azure-key-vault' ? 'key-vault' : 'graph';
  try {
    steps.push(await PROBES[cc.connection.type](cc));
  } catch (err) {
    steps.push(failedStep(probeStep, err));
  }
  return report();
}
