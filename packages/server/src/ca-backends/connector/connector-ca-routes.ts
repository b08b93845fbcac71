import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { appendAudit } from '../../audit/audit-log.ts';
import { requirePermission } from '../../auth/rbac.ts';
import type { Clock } from '../../clock.ts';
import type { ConnectorsService } from '../../connectors/connectors-service.ts';
import type { Database } from '../../db/schema.ts';
import { conflict, notFound } from '../../errors.ts';
import { route } from '../../http/route-table.ts';
import { connectorCaSettingsSchema } from './connector-settings.ts';

/**
 * `POST /api/v1/cas/connector`: an ADCS CA reached through an on-prem connector. Its servers are
 * ADCS connections (credentials sealed here, handed to the connector per job) with priorities.
 */
export function registerConnectorCaRoutes(app: FastifyInstance, deps: { db: Kysely<Database>; connectors: ConnectorsService; clock: Clock }): void {
  const { db, connectors, clock } = deps;
  route(app, {
    method: 'POST', url: '/api/v1/cas/connector', summary: 'Create an ADCS CA reached through an on-prem connector', tag: 'cas', responses: { 201: 'Created' },
    body: z.object({
      name: z.string().min(1).max(200),
      connector: z.string().min(1),
      /** Further connectors of a pool (names or ids); `connector` is its first member. */
      pool: z.array(z.string().min(1)).max(9).optional(),
      servers: z.array(z.object({ connection: z.string().min(1), priority: z.number().int().min(1).max(100) })).min(1).max(10),
      jobTimeoutSeconds: z.number().int().min(1).max(86_400).optional(),
      sanAttribute: z.boolean().optional(),
      /** certutil's CA name for revocation at ADCS (default: the issuer CN of each certificate). */
      caName: z.string().min(1).max(200).optional(),
    }).strict(),
  }, async ({ principal, body, reply }) => {
    requirePermission(principal, 'cas:manage');
    const connector = await connectors.require(body.connector);
    const pool = await poolIds(body.pool ?? [], connector.id);
    if (await db.selectFrom('cas').select('id').where('name', '=', body.name).executeTakeFirst()) throw conflict(`a CA named ${body.name} exists`);
    const servers: { connectionId: string; priority: number }[] = [];
    for (const s of body.servers) {
      const conn = await db.selectFrom('connections').select('id').where((eb) => eb.or([eb('name', '=', s.connection), ...(/^[0-9a-f-]{36}$/i.test(s.connection) ? [eb('id', '=', s.connection)] : [])])).executeTakeFirst();
      if (!conn) throw notFound('connection', s.connection);
      servers.push({ connectionId: conn.id, priority: s.priority });
    }
    const settings = connectorCaSettingsSchema.parse({ connector: connector.id, jobTimeoutSeconds: body.jobTimeoutSeconds, sanAttribute: body.sanAttribute, caName: body.caName, ...(pool.length ? { pool } : {}) });
    const id = randomUUID();
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('cas').values({ id, name: body.name, type: 'connector', settings: JSON.stringify(settings) }).execute();
      for (const s of servers) await trx.insertInto('ca_servers').values({ ca_id: id, connection_id: s.connectionId, priority: s.priority }).execute();
      await appendAudit(trx, { actor: principal, action: 'ca.create', resourceType: 'ca', resourceId: id, outcome: 'success', details: { type: 'connector', connector: connector.name } }, clock);
    });
    return reply.status(201).send({ id, name: body.name, type: 'connector', connector: connector.name, settings, servers });
  });

  /** Ids of the other pool members, each an existing connector, without the first member. */
  async function poolIds(names: string[], first: string): Promise<string[]> {
    const ids: string[] = [];
    for (const n of names) {
      const c = await connectors.require(n);
      if (c.id !== first && !ids.includes(c.id)) ids.push(c.id);
    }
    return ids;
  }

  route(app, {
    method: 'PUT', url: '/api/v1/cas/:id/connectors', summary: 'Set the connector pool of a connector CA (first member first)', tag: 'cas',
    body: z.object({ connectors: z.array(z.string().min(1)).min(1).max(10) }).strict(),
  }, async ({ principal, params, body }) => {
    requirePermission(principal, 'cas:manage');
    const ca = await db.selectFrom('cas').selectAll().where('id', '=', params['id']!).where('type', '=', 'connector').executeTakeFirst();
    if (!ca) throw notFound('connector CA', params['id']!);
    const first = await connectors.require(body.connectors[0]!);
    const pool = await poolIds(body.connectors.slice(1), first.id);
    const settings = connectorCaSettingsSchema.parse({ ...connectorCaSettingsSchema.parse(ca.settings), connector: first.id, pool: pool.length ? pool : undefined });
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('cas').set({ settings: JSON.stringify(settings) }).where('id', '=', ca.id).execute();
      await appendAudit(trx, { actor: principal, action: 'ca.update', resourceType: 'ca', resourceId: ca.id, outcome: 'success', details: { connectors: [first.id, ...pool] } }, clock);
    });
    return { id: ca.id, name: ca.name, type: 'connector', connectors: [first.id, ...pool], settings };
  });
}
