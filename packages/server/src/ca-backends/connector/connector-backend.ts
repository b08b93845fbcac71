import { formatDn, pemEncode } from '@certbridge/pki';
import { templateList, type JobSpec } from '@certbridge/connector/protocol';
import { jobIdOfTicket, type ConnectorJobs } from '../../connectors/connector-jobs.ts';
import type { ConnectorPkcs12Store } from '../../connectors/connector-pkcs12.ts';
import type { ConnectorsService } from '../../connectors/connectors-service.ts';
import type { ConnectorRow } from '../../connectors/connectors-tables.ts';
import type { CaRow } from '../../db/schema.ts';
import { AppError } from '../../errors.ts';
import type { AdcsRuntime } from '../adcs/adcs-runtime.ts';
import { ADCS_REVOCATION_DEFERRED } from '../adcs/adcs-backend.ts';
import { lostAnswerError, requesterAccount, withLostAnswers, type ServerFailure } from '../adcs/adcs-errors.ts';
import { createConnectorPool } from '../../connectors/connector-pool.ts';
import { caConfigString, revokeJob } from '../../connectors/connector-revocations.ts';
import type { CaBackend, CaBackendFactory, IssueRequest, IssueResult, KeygenIssueRequest, PendingTicket, RevokeRequest } from '../types.ts';
import { connectorCaSettingsSchema } from './connector-settings.ts';
import { derOf, toIssueResult, waitingResult } from './connector-outcomes.ts';

export interface ConnectorBackendDeps {
  adcs: AdcsRuntime;
  connectors: { service: ConnectorsService; jobs: ConnectorJobs; pkcs12: ConnectorPkcs12Store; chains: Map<string, { at: number; ders: Uint8Array[] }> };
}

/** A CA chain fetched through the connector is reused this long (it changes only at a CA renewal). */
const CHAIN_TTL_MS = 10 * 60_000;

/** `lost`: servers tried before whose connector reported a submission's answer lost (they may hold the request). */
type Asked =
  | { answered: true; result: unknown; connectionId: string; jobId: string; lost: ServerFailure[] }
  | { answered: false; jobId: string; connectionId: string; connector: ConnectorRow; lost: ServerFailure[] };

/**
 * The `connector` CA backend: an ADCS CA the server cannot reach, asked through an on-prem
 * connector. Its servers and priorities are the same `ca_servers` rows as a direct ADCS CA's;
 * each ask is a job for the connector, and a retryable failure moves to the next server.
 *
 * A request waits for an online connector's answer at most `jobTimeoutSeconds`; when the
 * connector is offline or slower, the order is left `pending` ("waiting for connector <name>")
 * with the job as its ticket, and the background poll picks the answer up whenever it comes.
 * The profile's pending lifetime bounds the wait, as for an ADCS approval.
 */
export const createConnectorBackend: CaBackendFactory<ConnectorBackendDeps> = (ca: CaRow, deps): CaBackend => {
  const parsed = connectorCaSettingsSchema.safeParse(ca.settings);
  if (!parsed.success) throw new AppError('VALIDATION_FAILED', `CA ${ca.name} has invalid connector settings`);
  const settings = parsed.data;
  const { jobs, service, pkcs12 } = deps.connectors;
  const waitMs = settings.jobTimeoutSeconds * 1000;

  const poolIds = [settings.connector, ...(settings.pool ?? []).filter((id) => id !== settings.connector)];
  const pool = createConnectorPool({ service, jobs });

  /** The pool member to ask (online and least busy, else the first active one to wait for). */
  async function activeConnector(): Promise<{ connector: ConnectorRow; online: boolean; active: string[] }> {
    const picked = await pool.choose(poolIds);
    if (!picked.chosen) {
      const first = picked.rows[0] ?? await service.require(settings.connector);
      throw new AppError('CA_UNAVAILABLE', `connector ${first.name} of CA ${ca.name} is ${first.status}`);
    }
    return { connector: picked.chosen, online: picked.online, active: picked.active.map((r) => r.id) };
  }
  const serverIds = async (): Promise<string[]> => (await deps.adcs.servers(ca.id)).map((s) => s.connection.id);

  /**
   * One job through the connector, over the CA's servers by priority. `queue` keeps an
   * unanswered job for later (orders); without it an offline connector or a timeout is an error.
   */
  async function ask(job: JobSpec, opts: { only?: string; queue: boolean; orderId?: string }): Promise<Asked> {
    const { connector, online, active } = await activeConnector();
    const servers = opts.only ? [opts.only] : await serverIds();
    if (servers.length === 0) throw new AppError('CA_UNAVAILABLE', `CA ${ca.name} has no ADCS servers`);
    if (!online && !opts.queue) throw new AppError('CA_UNAVAILABLE', `connector ${connector.name} of CA ${ca.name} is offline`, { connector: connector.name });
    const failures: string[] = [];
    const lost: ServerFailure[] = [];
    for (const connectionId of servers) {
      const id = await jobs.enqueue({ connectorId: connector.id, connectionId, job, pool: active, ...(opts.orderId ? { orderId: opts.orderId, pollAfterMs: waitMs + 60_000 } : {}) });
      if (!online) return { answered: false, jobId: id, connectionId, connector, lost };
      const outcome = await jobs.wait(id, waitMs);
      if (!outcome) {
        if (opts.queue) return { answered: false, jobId: id, connectionId, connector, lost };
        await jobs.finish(id, { ok: false, message: 'timed out', retryable: true });
        throw new AppError('CA_UNAVAILABLE', `waiting for connector ${connector.name}: no answer within ${settings.jobTimeoutSeconds} s`, { connector: connector.name, job: id });
      }
      if (outcome.ok) return { answered: true, result: outcome.result, connectionId, jobId: id, lost };
      failures.push(outcome.message);
      if (outcome.answerLost) lost.push(await lostAt(connectionId, outcome.message));
      if (!outcome.retryable) break;
    }
    const lostError = lostAnswerError(lost);
    throw new AppError('CA_UNAVAILABLE', `CA ${ca.name} through connector ${connector.name}: ${failures.join('; ')}${lostError.note}`, {
      connector: connector.name, failures, ...lostError.details,
    });
  }

  /** A server whose answer to a submission was lost, named as the direct backend names it (adcs-errors.ts). */
  async function lostAt(connectionId: string, message: string): Promise<ServerFailure> {
    const connection = (await deps.adcs.servers(ca.id)).find((s) => s.connection.id === connectionId)?.connection;
    return {
      server: connection?.name ?? connectionId, connectionId, error: message, at: new Date(),
      ...(connection ? { account: requesterAccount(connection) } : {}),
    };
  }

  async function chain(only?: string): Promise<Uint8Array[]> {
    if (ca.certificate_der) return [ca.certificate_der, ...ca.chain.map((x) => new Uint8Array(Buffer.from(x, 'base64')))];
    const key = `${ca.id}:${only ?? ''}`;
    const cached = deps.connectors.chains.get(key);
    if (cached && Date.now() - cached.at < CHAIN_TTL_MS) return cached.ders;
    const asked = await ask({ kind: 'ca-chain' }, { queue: false, ...(only ? { only } : {}) });
    if (!asked.answered || !Array.isArray(asked.result)) throw new AppError('CA_UNAVAILABLE', 'connector answered a malformed CA chain');
    const ders = asked.result.filter((p): p is string => typeof p === 'string').map(derOf);
    deps.connectors.chains.set(key, { at: Date.now(), ders });
    return ders;
  }

  /** Maps an answer; an issued certificate gets its chain, a connector-made PKCS#12 moves to the sealed download store. */
  async function settle(raw: unknown, connectionId: string, jobId: string, template?: string): Promise<IssueResult> {
    const { result, pkcs12: p12 } = toIssueResult(raw, ca.name, connectionId, template);
    if (p12) {
      const row = await jobs.get(jobId);
      const hash = row?.payload['passwordHash'];
      if (!row?.order_id || typeof hash !== 'string') throw new AppError('CA_UNAVAILABLE', `connector job ${jobId} returned a PKCS#12 for no order`);
      await pkcs12.store(row.order_id, p12, hash);
      await jobs.dropPkcs12(jobId);
    }
    return result.status === 'issued' ? { ...result, chainDer: await chain(connectionId).catch(() => []) } : result;
  }

  async function submit(job: JobSpec, orderId: string, template: string): Promise<IssueResult> {
    const asked = await ask(job, { queue: true, orderId });
    const result = asked.answered ? await settle(asked.result, asked.connectionId, asked.jobId, template) : waitingResult(asked.connector.name, asked.jobId, asked.connectionId);
    return withLostAnswers(result, asked.lost);
  }

  function requireTemplate(req: { template?: string }): string {
    if (!req.template) throw new AppError('VALIDATION_FAILED', `the profile names no ADCS certificate template (CA ${ca.name} is reached through a connector)`);
    return req.template;
  }

  async function issue(req: IssueRequest): Promise<IssueResult> {
    const template = requireTemplate(req);
    if (!req.csrDer) throw new AppError('VALIDATION_FAILED', 'an ADCS request needs a PKCS#10 request');
    return submit({
      kind: 'submit', csrPem: pemEncode('CERTIFICATE REQUEST', req.csrDer), template,
      ...(settings.sanAttribute && req.sans.length ? { sans: req.sans.map((s) => ({ type: s.type, value: s.value })) } : {}),
      ...(req.validityRequested ? { notAfter: req.notAfter.toISOString() } : {}),
    }, req.orderId, template);
  }

  /** Key generated on the connector; the PKCS#12 comes back encrypted under the requester's password. */
  async function issueWithKeygen(req: KeygenIssueRequest): Promise<IssueResult> {
    const template = requireTemplate(req);
    return submit({
      kind: 'enroll-keygen', template, subject: formatDn(req.subject), sans: req.sans.map((s) => ({ type: s.type, value: s.value })),
      keyAlgorithm: req.keyAlgorithm, password: req.pkcs12Password,
    }, req.orderId, template);
  }

  /** A job ticket: the answer if it came, the same wait if not, a new attempt (next server) if the job failed. */
  async function pollJob(jobId: string, server: string | undefined): Promise<IssueResult> {
    const row = await jobs.get(jobId);
    if (!row) throw new AppError('CA_UNAVAILABLE', `connector job ${jobId} of CA ${ca.name} no longer exists`);
    // The job's own connector (a pool may have handed it over); a pool member that went offline
    // without its socket closing on a live instance hands its jobs over here.
    const holder = await service.require(row.connector_id);
    if ((row.status === 'queued' || row.status === 'sent') && !service.isOnline(holder)) {
      await jobs.handOver({ id: holder.id, name: holder.name }, async (others) => {
        const picked = await pool.choose(others);
        return picked.online ? picked.chosen?.id : undefined;
      });
    }
    const current = (await jobs.get(jobId)) ?? row;
    const connector = current.connector_id === holder.id ? holder : await service.require(current.connector_id);
    if (connector.status !== 'active') throw new AppError('CA_UNAVAILABLE', `connector ${connector.name} of CA ${ca.name} is ${connector.status}`);
    const connectionId = typeof row.payload['connectionId'] === 'string' ? row.payload['connectionId'] : server ?? '';
    if (current.status === 'queued' || current.status === 'sent') return waitingResult(connector.name, jobId, connectionId, current.status === 'sent' ? `connector ${connector.name} is working on it` : undefined);
    if (current.status === 'done') return settle(jobs.resultOf(current), connectionId, current.id);
    const servers = await serverIds();
    const next = servers[(servers.indexOf(connectionId) + 1) % servers.length] ?? connectionId;
    const retried = await jobs.retry(row, next);
    if (!retried) throw new AppError('CA_UNAVAILABLE', `connector job ${jobId} cannot be asked again`);
    const error = JSON.parse(row.error ?? '{}') as { message?: string };
    return waitingResult(connector.name, retried, next, `last attempt failed: ${error.message ?? 'unknown error'}`);
  }

  async function poll(ticket: PendingTicket): Promise<IssueResult> {
    const jobId = jobIdOfTicket(ticket.requestId);
    if (jobId) return pollJob(jobId, ticket.server);
    const asked = await ask({ kind: 'retrieve', requestId: Number(ticket.requestId) }, { queue: true, ...(ticket.server ? { only: ticket.server } : {}) });
    if (!asked.answered) return waitingResult(asked.connector.name, asked.jobId, asked.connectionId);
    return settle(asked.result, asked.connectionId, asked.jobId);
  }

  /** Template discovery through the connector (profile template picker, broken-profile marking). */
  async function templates(server: string) {
    const asked = await ask({ kind: 'templates' }, { only: server, queue: false });
    const list = templateList.safeParse(asked.answered ? asked.result : undefined);
    if (!list.success) throw new AppError('CA_UNAVAILABLE', `connector answered a malformed template list for CA ${ca.name}`);
    return list.data;
  }

  /**
   * Revocation at ADCS through the connector: the certificate is marked "to revoke at ADCS" as for
   * a direct ADCS CA, and a `revoke` job (certutil on a Windows connector) is queued; its answer
   * clears the mark (connector-revocations.ts). A job that cannot be queued (connector revoked, no
   * server) leaves the mark for a CA manager, and Certbridge's own revocation still stands.
   */
  async function revoke(req: RevokeRequest): Promise<{ deferred: string }> {
    try {
      const { connector, active } = await activeConnector();
      const [first] = await deps.adcs.servers(ca.id);
      if (!first) return { deferred: ADCS_REVOCATION_DEFERRED };
      const config = caConfigString(first.connection.url, settings.caName, req.certificateDer);
      const id = await jobs.enqueue({ connectorId: connector.id, caId: ca.id, job: revokeJob(config, req.serialHex, req.reason), pool: active });
      return { deferred: `${ADCS_REVOCATION_DEFERRED}; revocation at ADCS queued for connector ${connector.name} (certutil -config "${config}", job ${id})` };
    } catch (err) {
      if (err instanceof AppError) return { deferred: `${ADCS_REVOCATION_DEFERRED}; not queued for a connector: ${err.message}` };
      throw err;
    }
  }

  return { issue, renew: issue, issueWithKeygen, revoke, chain: () => chain(), poll, templates };
};
