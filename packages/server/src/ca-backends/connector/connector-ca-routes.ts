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
      servers: z.array(z.object({ connection: z.string().min(1), priority: z.number().int().min(1).max(100) })).min(1).max(10),
      jobTimeoutSeconds: z.number().int().min(1).max(86_400).optional(),
      sanAttribute: z.boolean().optional(),
      /** certutil's CA name for revocation at ADCS (default: the issuer CN of each certificate). */
      caName: z.string().min(1).max(200).optional(),
    }).strict(),
  }, async ({ principal, body, reply }) => {
    requirePermission(principal, 'cas:manage');
    const connector = await connectors.require(body.connector);
    if (await db.selectFrom('cas').select('id').where('name', '=', body.name).executeTakeFirst()) throw conflict(`a CA named ${body.name} exists`);
    const servers: { connectionId: string; priority: number }[] = [];
    for (const s of body.servers) {
      const conn = await db.selectFrom('connections').select('id').where((eb) => eb.or([eb('name', '=', s.connection), ...(/^[0-9a-f-]{36}$/i.test(s.connection) ? [eb('id', '=', s.connection)] : [])])).executeTakeFirst();
      if (!conn) throw notFound('connection', s.connection);
      servers.push({ connectionId: conn.id, priority: s.priority });
    }
    const settings = connectorCaSettingsSchema.parse({ connector: connector.id, jobTimeoutSeconds: body.jobTimeoutSeconds, sanAttribute: body.sanAttribute, caName: body.caName });
    const id = randomUUID();
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('cas').values({ id, name: body.name, type: 'connector', settings: JSON.stringify(settings) }).execute();
      for (const s of servers) await trx.insertInto('ca_servers').values({ ca_id: id, connection_id: s.connectionId, priority: s.priority }).execute();
      await appendAudit(trx, { actor: principal, action: 'ca.create', resourceType: 'ca', resourceId: id, outcome: 'success', details: { type: 'connector', connector: connector.name } }, clock);
    });
    return reply.status(201).send({ id, name: body.name, type: 'connector', connector: connector.name, settings, servers });
  });
}
