import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import { isReady } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import { AppError } from '../../errors.ts';
import { buildOpenApiDocument } from '../openapi.ts';
import { route } from '../route-table.ts';
import { sendError } from '../error-handler.ts';

export function registerSystemRoutes(app: FastifyInstance, deps: { db: Kysely<Database>; metrics: Registry; publicUrl: string }): void {
  route(app, { method: 'GET', url: '/healthz', summary: 'Process is up', tag: 'system', public: true }, async () => ({ status: 'ok' }));
  route(app, { method: 'GET', url: '/readyz', summary: 'Database reachable and migrations applied', tag: 'system', public: true }, async ({ reply }) => {
    const ready = await isReady(deps.db).catch((err: unknown) => (app.log.warn({ err }, 'readiness check failed'), false));
    if (!ready) return sendError(reply, new AppError('CA_UNAVAILABLE', 'the database is not reachable or not migrated'));
    return { status: 'ready' };
  });
  route(app, { method: 'GET', url: '/metrics', summary: 'Prometheus metrics', tag: 'system', public: true }, async ({ reply }) => {
    reply.type(deps.metrics.contentType);
    return deps.metrics.metrics();
  });
  route(app, { method: 'GET', url: '/api/v1/openapi.json', summary: 'This OpenAPI document', tag: 'system', public: true }, async () =>
    buildOpenApiDocument(deps.publicUrl));
}
