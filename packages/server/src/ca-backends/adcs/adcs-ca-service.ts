import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { isAdcsError } from '@certbridge/adcs-client';
import { parseCertificate } from '@certbridge/pki';
import { appendAudit } from '../../audit/audit-log.ts';
import type { Principal } from '../../auth/principal.ts';
import { requirePermission } from '../../auth/rbac.ts';
import type { Clock } from '../../clock.ts';
import type { ConnectionsRepository } from '../../connections/connections-repository.ts';
import type { CaRow, ConnectionRow, Database } from '../../db/schema.ts';
import { AppError, conflict, notFound } from '../../errors.ts';
import type { CasRepository } from '../../repositories/cas-repository.ts';
import type { AdcsRuntime } from './adcs-runtime.ts';
import type { AdcsSettings } from './adcs-settings.ts';
import type { AdcsTemplates } from './adcs-templates.ts';

export interface ServerInput {
  connection: string;
  /** 1 = asked first (as in SecTrail); ties are ordered by connection name. */
  priority: number;
  maxRequestsPerSecond?: number;
}

export interface CreateAdcsCaInput {
  name: string;
  servers: ServerInput[];
  settings?: Partial<AdcsSettings>;
}

/**
 * ADCS CAs: a name over one or more ADCS servers (connections) with priorities. Creating one
 * reads the issuing CA chain from the first server that answers and discovers the templates.
 */
export function createAdcsCaService(deps: { db: Kysely<Database>; cas: CasRepository; connections: ConnectionsRepository; runtime: AdcsRuntime; templates: AdcsTemplates; clock: Clock }) {
  const { db, cas, connections, runtime, templates, clock } = deps;

  /** `throughConnector`: an ADCS CA reached through an on-prem connector will do too (templates). */
  async function requireAdcsCa(idOrName: string, opts: { throughConnector?: boolean } = {}): Promise<CaRow> {
    const ca = await cas.find(idOrName);
    if (!ca) throw notFound('CA', idOrName);
    if (ca.type !== 'adcs' && !(opts.throughConnector && ca.type === 'connector')) throw new AppError('VALIDATION_FAILED', `CA ${ca.name} is not an ADCS CA`);
    return ca;
  }

  async function resolveServers(servers: ServerInput[]) {
    if (servers.length === 0) throw new AppError('VALIDATION_FAILED', 'an ADCS CA needs at least one server');
    const resolved: { conn: ConnectionRow; priority: number; rate: number }[] = [];
    for (const s of servers) {
      const conn = await connections.find(s.connection);
      if (!conn) throw notFound('connection', s.connection);
      if (resolved.some((r) => r.conn.id === conn.id)) throw new AppError('VALIDATION_FAILED', `connection ${conn.name} is listed twice`);
      resolved.push({ conn, priority: s.priority, rate: s.maxRequestsPerSecond ?? 20 });
    }
    return resolved.sort((a, b) => a.priority - b.priority);
  }

  /** `name` keeps the servers whose connection name contains it (case-insensitive). */
  async function serverView(ca: CaRow, name?: string) {
    let q = db.selectFrom('ca_servers').innerJoin('connections', 'connections.id', 'ca_servers.connection_id')
      .leftJoin('adcs_server_state as st', 'st.connection_id', 'ca_servers.connection_id')
      .select(['connections.id', 'connections.name', 'connections.url', 'ca_servers.priority', 'ca_servers.max_requests_per_second', 'ca_servers.last_check_at', 'ca_servers.last_check_ok', 'ca_servers.last_error', 'st.failures', 'st.opened_at', 'st.trial_at'])
      .where('ca_servers.ca_id', '=', ca.id).orderBy('ca_servers.priority');
    if (name) q = q.where(sql<number>`strpos(lower(connections.name), ${name.toLowerCase()})`, '>', 0);
    const rows = await q.execute();
    return rows.map((r) => ({
      connectionId: r.id, name: r.name, url: r.url, priority: r.priority, maxRequestsPerSecond: r.max_requests_per_second,
      circuit: runtime.breakers.stateOf(r.failures === null ? undefined : { failures: r.failures, opened_at: r.opened_at, trial_at: r.trial_at }), lastCheckAt: r.last_check_at, healthy: r.last_check_ok, lastError: r.last_error,
    }));
  }

  return {
    requireAdcsCa,
    async create(actor: Principal, input: CreateAdcsCaInput): Promise<CaRow> {
      requirePermission(actor, 'cas:manage');
      if (await cas.find(input.name)) throw conflict(`a CA named ${input.name} already exists`);
      const servers = await resolveServers(input.servers);
      let chain: Uint8Array[] = [];
      for (const s of servers) {
        try {
          chain = await runtime.pool.chain(s.conn);
          break;
        } catch (err) {
          if (!isAdcsError(err)) throw err;
        }
      }
      const info = chain[0] ? parseCertificate(chain[0]) : undefined;
      const id = randomUUID();
      const ca = await db.transaction().execute(async (trx) => {
        const row = await cas.insert(trx, {
          id, name: input.name, type: 'adcs', parent_id: null, subject: info?.subjectText ?? null, serial_hex: info?.serialHex ?? null,
          key_algorithm: info?.publicKey.algorithm ?? null, certificate_der: chain[0] ?? null,
          chain: JSON.stringify(chain.slice(1).map((d) => Buffer.from(d).toString('base64'))), private_key_sealed: null,
          not_before: info?.notBefore ?? null, not_after: info?.notAfter ?? null, settings: JSON.stringify(input.settings ?? {}),
        });
        await trx.insertInto('ca_servers').values(servers.map((s) => ({ ca_id: id, connection_id: s.conn.id, priority: s.priority, max_requests_per_second: s.rate }))).execute();
        await appendAudit(trx, { actor, action: 'ca.create', resourceType: 'ca', resourceId: id, outcome: 'success', details: { name: input.name, type: 'adcs', servers: servers.map((s) => ({ connection: s.conn.name, priority: s.priority })) } }, clock);
        return row;
      });
      await templates.refresh(ca);
      return ca;
    },

    async setServers(actor: Principal, idOrName: string, input: ServerInput[]) {
      requirePermission(actor, 'cas:manage');
      const ca = await requireAdcsCa(idOrName);
      const servers = await resolveServers(input);
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('ca_servers').where('ca_id', '=', ca.id).execute();
        await trx.insertInto('ca_servers').values(servers.map((s) => ({ ca_id: ca.id, connection_id: s.conn.id, priority: s.priority, max_requests_per_second: s.rate }))).execute();
        await appendAudit(trx, { actor, action: 'ca.servers.set', resourceType: 'ca', resourceId: ca.id, outcome: 'success', details: { servers: servers.map((s) => ({ connection: s.conn.name, priority: s.priority })) } }, clock);
      });
      runtime.invalidate();
      return serverView(ca);
    },

    async servers(actor: Principal, idOrName: string, name?: string) {
      requirePermission(actor, 'cas:read');
      // A connector CA's servers are the same rows: shown, though only the connector reaches them.
      return serverView(await requireAdcsCa(idOrName, { throughConnector: true }), name);
    },

    /** One authenticated GET of the certsrv home page per server; feeds the circuit breakers. */
    async healthCheck(): Promise<number> {
      const rows = await db.selectFrom('ca_servers').innerJoin('cas', 'cas.id', 'ca_servers.ca_id').innerJoin('connections', 'connections.id', 'ca_servers.connection_id')
        .selectAll('connections').select(['ca_servers.ca_id']).where('cas.status', '=', 'active').where('cas.type', '=', 'adcs').execute();
      for (const { ca_id, ...conn } of rows) {
        let error: string | null = null;
        try {
          await runtime.pool.client(conn).get('', 'health check (certsrv home page)');
          await runtime.breakers.success(conn.id);
        } catch (err) {
          error = err instanceof Error ? err.message : String(err);
          if (!isAdcsError(err) || err.retryable) await runtime.breakers.failure(conn.id);
        }
        runtime.invalidate();
        await db.updateTable('ca_servers').set({ last_check_at: clock.now(), last_check_ok: error === null, last_error: error })
          .where('ca_id', '=', ca_id).where('connection_id', '=', conn.id).execute();
      }
      return rows.length;
    },
  };
}

export type AdcsCaService = ReturnType<typeof createAdcsCaService>;
