import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { AdcsClient, type ProbeReport } from '@certbridge/adcs-client';
import { checkKerberos, type KerberosPatch } from './connection-kerberos.ts';
import { pemDecodeAll } from '@certbridge/pki';
import { appendAudit } from '../audit/audit-log.ts';
import type { Principal } from '../auth/principal.ts';
import { requirePermission } from '../auth/rbac.ts';
import type { Clock } from '../clock.ts';
import type { Sealer } from '../crypto/sealer.ts';
import type { ConnectionRow, Database } from '../db/schema.ts';
import { AppError, conflict, notFound } from '../errors.ts';
import { clientOptions, connectionKeytabContext, connectionPasswordContext } from './connection-options.ts';
import type { ConnectionsRepository } from './connections-repository.ts';

export type AuthKind = ConnectionRow['auth'];

export interface ConnectionInput {
  name: string;
  type: 'adcs';
  url: string;
  domain: string;
  username: string;
  /** Optional when a keytab is given (Kerberos). */
  password?: string;
  auth: AuthKind;
  caPem?: string | null;
  rejectUnauthorized?: boolean;
  timeoutMs?: number;
  maxSockets?: number;
  /** Base64 of an MIT keytab holding the connection's principal; null removes it. */
  keytab?: string | null;
  /** KDCs of the realm (`domain`); null or [] uses the host's krb5.conf. */
  kdcs?: string[] | null;
}

/** What `POST /connections/{id}/test` answers: the client's probe plus the connection it tested. */
export type ConnectionTestReport = ProbeReport & { connectionId: string; ok: boolean };

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AppError('VALIDATION_FAILED', `${JSON.stringify(url)} is not a URL`, { field: 'url' });
  }
  if (parsed.protocol !== 'https:') throw new AppError('VALIDATION_FAILED', 'an ADCS connection URL must use https: (credentials and channel binding need TLS)', { field: 'url' });
}

function checkCaPem(pem: string | null | undefined): void {
  if (!pem) return;
  try {
    if (pemDecodeAll(pem, 'CERTIFICATE').length === 0) throw new Error('no CERTIFICATE block');
  } catch (err) {
    throw new AppError('VALIDATION_FAILED', `caPem is not a PEM certificate bundle: ${err instanceof Error ? err.message : String(err)}`, { field: 'caPem' });
  }
}

/**
 * ADCS connections: where a web enrollment server is and how to log in to it. The password is
 * sealed with the context `connection:<id>` and never returned; every change is audited.
 */
export function createConnectionService(deps: { db: Kysely<Database>; connections: ConnectionsRepository; sealer: Sealer; clock: Clock; onChange?: (id: string) => void }) {
  const { db, connections, sealer, clock } = deps;

  async function require(idOrName: string): Promise<ConnectionRow> {
    const row = await connections.find(idOrName);
    if (!row) throw notFound('connection', idOrName);
    return row;
  }

  const audited = (actor: Principal, action: string, fn: (trx: Kysely<Database>) => Promise<ConnectionRow>, details: Record<string, unknown> = {}) =>
    db.transaction().execute(async (trx) => {
      const row = await fn(trx);
      await appendAudit(trx, { actor, action, resourceType: 'connection', resourceId: row.id, outcome: 'success', details: { name: row.name, ...details } }, clock);
      return row;
    });

  /** The columns a checked Kerberos change writes (only what the request changed). */
  const kerberosColumns = (id: string, k: KerberosPatch) => ({
    ...(k.keytab !== undefined ? { keytab_sealed: k.keytab ? sealer.seal(k.keytab.bytes, connectionKeytabContext(id)) : null, keytab_principal: k.keytab?.principal ?? null } : {}),
    ...(k.kdcs !== undefined ? { kerberos_kdcs: k.kdcs ? JSON.stringify(k.kdcs) : null } : {}),
  });

  return {
    require,
    /** By id or name without a permission check (callers check first): the kinds registry looks up with it. */
    find: (idOrName: string) => connections.find(idOrName),
    list: (actor: Principal) => (requirePermission(actor, 'connections:read'), connections.list()),
    get: (actor: Principal, id: string) => (requirePermission(actor, 'connections:read'), require(id)),

    async create(actor: Principal, input: ConnectionInput): Promise<ConnectionRow> {
      requirePermission(actor, 'connections:manage');
      checkUrl(input.url);
      checkCaPem(input.caPem);
      const kerberos = checkKerberos({ auth: input.auth, username: input.username, domain: input.domain, hasPassword: input.password !== undefined, keytabPrincipal: null, kdcs: null }, input);
      if (await connections.find(input.name)) throw conflict(`a connection named ${input.name} already exists`);
      const id = randomUUID();
      return audited(actor, 'connection.create', (trx) => connections.insert(trx, {
        id, name: input.name, type: input.type, url: input.url, domain: input.domain, username: input.username,
        password_sealed: input.password !== undefined ? sealer.seal(input.password, connectionPasswordContext(id)) : null, auth: input.auth, ca_pem: input.caPem ?? null,
        reject_unauthorized: input.rejectUnauthorized ?? true, timeout_ms: input.timeoutMs ?? 30_000, max_sockets: input.maxSockets ?? 4,
        ...kerberosColumns(id, kerberos),
      }), { url: input.url, auth: input.auth, rejectUnauthorized: input.rejectUnauthorized ?? true, ...(kerberos.keytab ? { keytabPrincipal: kerberos.keytab.principal } : {}) });
    },

    async update(actor: Principal, idOrName: string, input: Partial<Omit<ConnectionInput, 'name' | 'type'>>): Promise<ConnectionRow> {
      requirePermission(actor, 'connections:manage');
      const existing = await require(idOrName);
      if (input.url !== undefined) checkUrl(input.url);
      checkCaPem(input.caPem);
      const kerberos = checkKerberos({
        auth: input.auth ?? existing.auth, username: input.username ?? existing.username, domain: input.domain ?? existing.domain,
        hasPassword: input.password !== undefined || existing.password_sealed !== null, keytabPrincipal: existing.keytab_principal, kdcs: existing.kerberos_kdcs,
      }, input);
      const row = await audited(actor, 'connection.update', (trx) => connections.update(trx, existing.id, {
        ...kerberosColumns(existing.id, kerberos),
        ...(input.url !== undefined ? { url: input.url } : {}),
        ...(input.domain !== undefined ? { domain: input.domain } : {}),
        ...(input.username !== undefined ? { username: input.username } : {}),
        ...(input.password !== undefined ? { password_sealed: sealer.seal(input.password, connectionPasswordContext(existing.id)) } : {}),
        ...(input.auth !== undefined ? { auth: input.auth } : {}),
        ...(input.caPem !== undefined ? { ca_pem: input.caPem } : {}),
        ...(input.rejectUnauthorized !== undefined ? { reject_unauthorized: input.rejectUnauthorized } : {}),
        ...(input.timeoutMs !== undefined ? { timeout_ms: input.timeoutMs } : {}),
        ...(input.maxSockets !== undefined ? { max_sockets: input.maxSockets } : {}),
      }), { fields: Object.keys(input).filter((k) => k !== 'password').concat(input.password !== undefined ? ['password'] : []) });
      deps.onChange?.(row.id);
      return row;
    },

    async remove(actor: Principal, idOrName: string): Promise<void> {
      requirePermission(actor, 'connections:manage');
      const existing = await require(idOrName);
      const users = await connections.usedBy(existing.id);
      if (users.length) throw conflict(`connection ${existing.name} is used by CA ${users.join(', ')}; remove it from the CA first`, { cas: users });
      await audited(actor, 'connection.delete', async (trx) => (await connections.remove(trx, existing.id), existing));
      deps.onChange?.(existing.id);
    },

    /** Reachable, TLS, auth, EPA, CA name, templates and round trip, on a fresh (unpooled) client. */
    async test(actor: Principal, idOrName: string): Promise<ConnectionTestReport> {
      requirePermission(actor, 'connections:manage');
      const conn = await require(idOrName);
      const client = new AdcsClient(clientOptions(conn, sealer));
      try {
        const report = await client.probe();
        return { connectionId: conn.id, ok: report.reachable && report.tls.ok && report.auth.ok && !report.error, ...report };
      } finally {
        await client.close();
      }
    },
  };
}

export type ConnectionService = ReturnType<typeof createConnectionService>;

