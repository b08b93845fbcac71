import { pemEncode } from '@certbridge/pki';
import { submitOutcome, type JobSpec, type SubmitOutcome } from '@certbridge/connector/protocol';
import type { ConnectorJobs } from '../../connectors/connector-jobs.ts';
import type { ConnectorsService } from '../../connectors/connectors-service.ts';
import type { CaRow } from '../../db/schema.ts';
import { AppError } from '../../errors.ts';
import { denialReason } from '../adcs/adcs-errors.ts';
import type { AdcsRuntime } from '../adcs/adcs-runtime.ts';
import { ADCS_REVOCATION_DEFERRED } from '../adcs/adcs-backend.ts';
import { pollDelayMs } from '../adcs/pending-schedule.ts';
import type { CaBackend, CaBackendFactory, IssueRequest, IssueResult, PendingTicket } from '../types.ts';
import { connectorCaSettingsSchema } from './connector-settings.ts';

export interface ConnectorBackendDeps {
  adcs: AdcsRuntime;
  connectors: { service: ConnectorsService; jobs: ConnectorJobs };
}

const derOf = (pem: string): Uint8Array => new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));

/**
 * The `connector` CA backend: an ADCS CA the server cannot reach, asked through an on-prem
 * connector. The CA's servers and priorities are the same `ca_servers` rows as for a direct ADCS
 * CA (adcs-runtime `servers`); each ask is a job for the connector, and a retryable failure moves
 * to the next server. Outcomes are mapped with the direct backend's rules (denial reasons,
 * pending ticket pinned to its server, poll schedule, deferred revocation).
 */
export const createConnectorBackend: CaBackendFactory<ConnectorBackendDeps> = (ca: CaRow, deps): CaBackend => {
  const parsed = connectorCaSettingsSchema.safeParse(ca.settings);
  if (!parsed.success) throw new AppError('VALIDATION_FAILED', `CA ${ca.name} has invalid connector settings`);
  const settings = parsed.data;
  const { jobs, service } = deps.connectors;

  async function ask(job: JobSpec, only?: string): Promise<{ result: unknown; connectionId: string }> {
    const connector = await service.require(settings.connector);
    if (connector.status !== 'active') throw new AppError('CA_UNAVAILABLE', `connector ${connector.name} of CA ${ca.name} is ${connector.status}`);
    let servers = (await deps.adcs.servers(ca.id)).map((s) => s.connection.id);
    if (only) servers = [only];
    if (servers.length === 0) throw new AppError('CA_UNAVAILABLE', `CA ${ca.name} has no ADCS servers`);
    const failures: string[] = [];
    for (const connectionId of servers) {
      const id = await jobs.enqueue({ connectorId: connector.id, connectionId, job });
      const outcome = await jobs.wait(id, settings.jobTimeoutSeconds * 1000, connector.name);
      if (outcome.ok) return { result: outcome.result, connectionId };
      failures.push(outcome.message);
      if (!outcome.retryable) break;
    }
    throw new AppError('CA_UNAVAILABLE', `CA ${ca.name} through connector ${connector.name}: ${failures.join('; ')}`, { connector: connector.name, failures });
  }

  function toResult(raw: unknown, connectionId: string, template?: string, chainDer: Uint8Array[] = []): IssueResult {
    const parsedOutcome = submitOutcome.safeParse(raw);
    if (!parsedOutcome.success) throw new AppError('CA_UNAVAILABLE', `connector answered a malformed ADCS outcome for CA ${ca.name}`);
    const r: SubmitOutcome = parsedOutcome.data;
    if (r.status === 'denied') {
      return {
        status: 'rejected', reason: denialReason(r.dispositionMessage, r.hresult, template), disposition: r.dispositionMessage,
        ...(r.hresult ? { hresult: r.hresult } : {}), ...(r.requestId !== undefined ? { requestId: String(r.requestId) } : {}),
      };
    }
    if (r.status === 'pending') return { status: 'pending', ticket: { requestId: String(r.requestId), server: connectionId }, retryAfterSeconds: pollDelayMs(0) / 1000, disposition: r.dispositionMessage };
    return { status: 'issued', certificateDer: derOf(r.certificatePem), chainDer, requestId: String(r.requestId), server: connectionId };
  }

  async function chain(only?: string): Promise<Uint8Array[]> {
    if (ca.certificate_der) return [ca.certificate_der, ...ca.chain.map((x) => new Uint8Array(Buffer.from(x, 'base64')))];
    const { result } = await ask({ kind: 'ca-chain' }, only);
    if (!Array.isArray(result)) throw new AppError('CA_UNAVAILABLE', 'connector answered a malformed CA chain');
    return result.filter((p): p is string => typeof p === 'string').map(derOf);
  }

  async function issue(req: IssueRequest): Promise<IssueResult> {
    if (!req.template) throw new AppError('VALIDATION_FAILED', `the profile names no ADCS certificate template (CA ${ca.name} is reached through a connector)`);
    if (!req.csrDer) throw new AppError('VALIDATION_FAILED', 'an ADCS request needs a PKCS#10 request');
    const { result, connectionId } = await ask({
      kind: 'submit', csrPem: pemEncode('CERTIFICATE REQUEST', req.csrDer), template: req.template,
      ...(settings.sanAttribute && req.sans.length ? { sans: req.sans.map((s) => ({ type: s.type, value: s.value })) } : {}),
      ...(req.validityRequested ? { notAfter: req.notAfter.toISOString() } : {}),
    });
    const first = toResult(result, connectionId, req.template);
    return first.status === 'issued' ? { ...first, chainDer: await chain(connectionId).catch(() => []) } : first;
  }

  async function poll(ticket: PendingTicket): Promise<IssueResult> {
    const { result, connectionId } = await ask({ kind: 'retrieve', requestId: Number(ticket.requestId) }, ticket.server);
    const r = toResult(result, connectionId);
    return r.status === 'issued' ? { ...r, chainDer: await chain(connectionId).catch(() => []) } : r;
  }

  return { issue, renew: issue, revoke: async () => ({ deferred: ADCS_REVOCATION_DEFERRED }), chain: () => chain(), poll };
};
