import type { FastifyBaseLogger } from 'fastify';
import type { z, ZodTypeAny } from 'zod';
import type { Principal } from '../auth/principal.ts';
import { requirePermission } from '../auth/rbac.ts';
import { AppError, notFound } from '../errors.ts';
import { zodIssues } from '../http/route-table.ts';
import { azureConnectionDto } from './azure/azure-connection-service.ts';
import type { AzureModule } from './azure/azure-module.ts';
import { azureUpdateSchema, type AzureCreateInput } from './azure/azure-schemas.ts';
import type { AzureConnectionRow, AzureConnectionType } from './azure/azure-tables.ts';
import type { ConnectionRow } from '../db/schema.ts';
import { connectionDto, TLS_VERIFY_OFF_WARNING } from './connection-options.ts';
import type { ConnectionInput, ConnectionService } from './connection-service.ts';

export type ConnectionType = 'adcs' | AzureConnectionType;

/** One connection found by id or name, with what the routes may do to it. */
export interface LocatedConnection {
  name: string;
  dto(): object;
  update(actor: Principal, body: unknown, log: FastifyBaseLogger): Promise<object>;
  remove(actor: Principal): Promise<void>;
  test(actor: Principal): Promise<object>;
  /** Rotates the connection's own secret now (connections whose secret Certbridge rotates). */
  rotateSecret(actor: Principal): Promise<object>;
}

/** What each connection type contributes to `/api/v1/connections` (STYLE: a registry, not if-chains). */
export interface ConnectionKind {
  list(actor: Principal): Promise<LocatedConnection[]>;
  find(idOrName: string): Promise<LocatedConnection | undefined>;
  create(actor: Principal, body: unknown, log: FastifyBaseLogger): Promise<object>;
}

/** Validates a body against a kind's own schema, answering in the API's error format. */
export function parseBody<S extends ZodTypeAny>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw new AppError('VALIDATION_FAILED', 'the request body is invalid', { issues: zodIssues(parsed.error) });
  return parsed.data;
}

export function createConnectionKinds(deps: { connections: ConnectionService; azure: AzureModule; adcsPatchSchema: ZodTypeAny }) {
  const { connections, azure } = deps;
  const warnIfInsecure = (log: FastifyBaseLogger, row: { name: string; reject_unauthorized: boolean }) => {
    if (!row.reject_unauthorized) log.warn({ connection: row.name }, TLS_VERIFY_OFF_WARNING);
  };

  const adcsLocated = (row: ConnectionRow): LocatedConnection => ({
    name: row.name,
    dto: () => connectionDto(row),
    update: async (actor, body, log) => {
      const updated = await connections.update(actor, row.id, parseBody(deps.adcsPatchSchema, body));
      warnIfInsecure(log, updated);
      return connectionDto(updated);
    },
    remove: (actor) => connections.remove(actor, row.id),
    test: (actor) => connections.test(actor, row.id),
    rotateSecret: () => Promise.reject(new AppError('VALIDATION_FAILED', 'an ADCS connection\'s password is not rotated by Certbridge: change it with PATCH password', { field: 'type' })),
  });
  const adcs: ConnectionKind = {
    list: async (actor) => (await connections.list(actor)).map(adcsLocated),
    find: async (idOrName) => {
      const row = await connections.find(idOrName);
      return row ? adcsLocated(row) : undefined;
    },
    create: async (actor, body, log) => {
      const input = body as ConnectionInput;
      await azure.connections.assertNameFree(input.name);
      const row = await connections.create(actor, input);
      warnIfInsecure(log, row);
      return connectionDto(row);
    },
  };

  const azureLocated = (row: AzureConnectionRow): LocatedConnection => ({
    name: row.name,
    dto: () => azureConnectionDto(row),
    update: async (actor, body) => azureConnectionDto(await azure.connections.update(actor, row.id, parseBody(azureUpdateSchema, body))),
    remove: (actor) => azure.connections.remove(actor, row.id),
    test: (actor) => azure.connections.test(actor, row.id),
    rotateSecret: (actor) => azure.connections.rotateNow(actor, row.id),
  });
  const azureKind = (type: AzureConnectionType): ConnectionKind => ({
    list: async () => (await azure.repo.list()).filter((r) => r.type === type).map(azureLocated),
    find: async (idOrName) => {
      const row = await azure.repo.find(idOrName);
      return row && row.type === type ? azureLocated(row) : undefined;
    },
    create: async (actor, body) => azureConnectionDto(await azure.connections.create(actor, body as AzureCreateInput)),
  });

  const kinds = {
    adcs,
    'azure-client-secrets': azureKind('azure-client-secrets'),
    'azure-key-vault': azureKind('azure-key-vault'),
  } satisfies Record<ConnectionType, ConnectionKind>;

  return {
    async list(actor: Principal, type?: ConnectionType): Promise<object[]> {
      requirePermission(actor, 'connections:read');
      const all = (await Promise.all((type ? [kinds[type]] : Object.values(kinds)).map((k) => k.list(actor)))).flat();
      return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((c) => c.dto());
    },
    /** Any kind's connection by id or name; 403 before 404 for callers without the permission. */
    async locate(actor: Principal, idOrName: string, permission: 'connections:read' | 'connections:manage' = 'connections:read'): Promise<LocatedConnection> {
      requirePermission(actor, permission);
      for (const kind of Object.values(kinds)) {
        const found = await kind.find(idOrName);
        if (found) return found;
      }
      throw notFound('connection', idOrName);
    },
    create: (actor: Principal, type: ConnectionType, body: unknown, log: FastifyBaseLogger) => kinds[type].create(actor, body, log),
  };
}

export type ConnectionKinds = ReturnType<typeof createConnectionKinds>;
