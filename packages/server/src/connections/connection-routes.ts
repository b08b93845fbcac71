import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { route } from '../http/route-table.ts';
import { connectionDto, TLS_VERIFY_OFF_WARNING } from './connection-options.ts';
import type { ConnectionService } from './connection-service.ts';

const authSchema = z.enum(['ntlm', 'kerberos', 'negotiate', 'basic']);
const fields = {
  url: z.string().url().max(2000).refine((u) => u.startsWith('https://'), 'must be an https:// URL'),
  domain: z.string().min(1).max(255),
  username: z.string().min(1).max(255),
  password: z.string().min(1).max(1000),
  auth: authSchema,
  caPem: z.string().max(200_000).nullable().optional(),
  rejectUnauthorized: z.boolean().optional(),
  timeoutMs: z.number().int().min(500).max(300_000).optional(),
  maxSockets: z.number().int().min(1).max(16).optional(),
};

/** `/api/v1/connections`: ADCS web enrollment connections (SPEC "Resources"). */
export function registerConnectionRoutes(app: FastifyInstance, deps: { connections: ConnectionService }): void {
  const { connections } = deps;
  route(app, { method: 'GET', url: '/api/v1/connections', summary: 'List connections (passwords are never returned)', tag: 'connections' }, async ({ principal }) =>
    ({ items: (await connections.list(principal)).map(connectionDto) }));
  route(app, { method: 'GET', url: '/api/v1/connections/:id', summary: 'A connection by id or name', tag: 'connections' }, async ({ principal, params }) =>
    connectionDto(await connections.get(principal, params['id']!)));
  route(app, {
    method: 'POST', url: '/api/v1/connections', summary: 'Create an ADCS connection (password sealed; rejectUnauthorized defaults to true)', tag: 'connections', responses: { 201: 'Created' },
    body: z.object({ name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/), type: z.literal('adcs').default('adcs'), ...fields }).strict(),
  }, async ({ principal, body, reply, request }) => {
    const row = await connections.create(principal, body);
    if (!row.reject_unauthorized) request.log.warn({ connection: row.name }, TLS_VERIFY_OFF_WARNING);
    return reply.status(201).send(connectionDto(row));
  });
  route(app, {
    method: 'PATCH', url: '/api/v1/connections/:id', summary: 'Change a connection (send password to replace it)', tag: 'connections',
    body: z.object({ url: fields.url.optional(), domain: fields.domain.optional(), username: fields.username.optional(), password: fields.password.optional(), auth: authSchema.optional(), caPem: fields.caPem, rejectUnauthorized: fields.rejectUnauthorized, timeoutMs: fields.timeoutMs, maxSockets: fields.maxSockets }).strict(),
  }, async ({ principal, params, body, request }) => {
    const row = await connections.update(principal, params['id']!, body);
    if (!row.reject_unauthorized) request.log.warn({ connection: row.name }, TLS_VERIFY_OFF_WARNING);
    return connectionDto(row);
  });
  route(app, { method: 'DELETE', url: '/api/v1/connections/:id', summary: 'Delete a connection no CA uses', tag: 'connections', responses: { 204: 'Deleted' } }, async ({ principal, params, reply }) => {
    await connections.remove(principal, params['id']!);
    return reply.status(204).send();
  });
  route(app, {
    method: 'POST', url: '/api/v1/connections/:id/test',
    summary: 'Test a connection: reachable, TLS (or the exact problem), auth, EPA required, CA name, templates, round trip', tag: 'connections',
  }, async ({ principal, params }) => connections.test(principal, params['id']!));
}
