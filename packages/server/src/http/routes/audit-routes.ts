import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { z } from 'zod';
import { verifyAuditChain } from '../../audit/audit-log.ts';
import { requirePermission } from '../../auth/rbac.ts';
import type { Database } from '../../db/schema.ts';
import { route } from '../route-table.ts';

export function registerAuditRoutes(app: FastifyInstance, deps: { db: Kysely<Database> }): void {
  route(app, {
    method: 'GET', url: '/api/v1/audit', summary: 'Audit log, newest first', tag: 'audit',
    query: z.object({
      action: z.string().max(100).optional(), resourceType: z.string().max(100).optional(), resourceId: z.string().max(100).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100), before: z.coerce.number().int().positive().optional(),
    }).strict(),
  }, async ({ principal, query }) => {
    requirePermission(principal, 'audit:read');
    let q = deps.db.selectFrom('audit_log').selectAll().orderBy('seq', 'desc').limit(query.limit);
    if (query.action) q = q.where('action', '=', query.action);
    if (query.resourceType) q = q.where('resource_type', '=', query.resourceType);
    if (query.resourceId) q = q.where('resource_id', '=', query.resourceId);
    if (query.before) q = q.where(sql<boolean>`seq < ${query.before}::bigint`);
    const rows = await q.execute();
    return {
      items: rows.map((r) => ({ seq: Number(r.seq), id: r.id, occurredAt: r.occurred_at, actor: { type: r.actor_type, id: r.actor_id, name: r.actor_name }, action: r.action, resourceType: r.resource_type, resourceId: r.resource_id, outcome: r.outcome, details: r.details, hash: r.hash })),
      nextBefore: rows.length === query.limit ? Number(rows.at(-1)!.seq) : null,
    };
  });
  route(app, { method: 'GET', url: '/api/v1/audit/verify', summary: 'Verify the audit hash chain', tag: 'audit' }, async ({ principal }) => {
    requirePermission(principal, 'audit:read');
    return verifyAuditChain(deps.db);
  });
}
