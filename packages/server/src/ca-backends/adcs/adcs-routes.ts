import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { requirePermission } from '../../auth/rbac.ts';
import { caDto, orderDto } from '../../http/dto.ts';
import { route } from '../../http/route-table.ts';
import type { AdcsCaService } from './adcs-ca-service.ts';
import { adcsSettingsSchema } from './adcs-settings.ts';
import type { AdcsTemplates } from './adcs-templates.ts';
import { cancelNote, type PendingOrders } from './pending-orders.ts';
import type { AdcsSubordinates } from './adcs-subordinate.ts';
import { keyAlgorithmSchema } from '../../issuance/policy-rules.ts';

const serversSchema = z.array(z.object({
  connection: z.string().min(1),
  priority: z.number().int().min(1).max(100),
  maxRequestsPerSecond: z.number().int().min(1).max(1000).optional(),
}).strict()).min(1).max(20);

/**
 * ADCS CAs (`POST /api/v1/cas/adcs`, servers, templates) and the pending-order actions
 * (`POST /api/v1/orders/{id}/fetch`, `DELETE /api/v1/orders/{id}`).
 */
export function registerAdcsRoutes(app: FastifyInstance, deps: { adcsCas: AdcsCaService; templates: AdcsTemplates; pending: PendingOrders; subordinates: AdcsSubordinates }): void {
  const { adcsCas, templates, pending } = deps;
  route(app, {
    method: 'POST', url: '/api/v1/cas/:id/subordinates',
    summary: 'Create an internal intermediate CA (key generated here) whose certificate this ADCS CA issues from a subordinate-CA template; 201 active, 202 disabled until a CA manager approves',
    tag: 'cas', responses: { 201: 'Issued: the CA is active', 202: 'Pending at ADCS: the CA is disabled until the certificate is issued' },
    body: z.object({
      name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/), subject: z.string().min(1).max(1000),
      keyAlgorithm: keyAlgorithmSchema.default('RSA-2048'), template: z.string().min(1).max(200).default('SubCA'),
    }).strict(),
  }, async ({ principal, params, body, reply }) => {
    const ca = await deps.subordinates.create(principal, params['id']!, body);
    return reply.status(ca.status === 'active' ? 201 : 202).send({ ...caDto(ca), pendingAtAdcs: ca.status !== 'active' });
  });
  route(app, {
    method: 'POST', url: '/api/v1/cas/adcs', summary: 'Create an ADCS CA over one or more ADCS connections with priorities (1 = asked first)', tag: 'cas', responses: { 201: 'Created' },
    body: z.object({ name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/), servers: serversSchema, settings: adcsSettingsSchema.partial().optional() }).strict(),
  }, async ({ principal, body, reply }) => {
    const ca = await adcsCas.create(principal, { name: body.name, servers: body.servers, ...(body.settings ? { settings: body.settings } : {}) });
    return reply.status(201).send({ ...caDto(ca), servers: await adcsCas.servers(principal, ca.id) });
  });
  route(app, {
    method: 'GET', url: '/api/v1/cas/:id/servers', summary: 'Servers of an ADCS CA: priority, rate cap, circuit state, last health check', tag: 'cas',
    query: z.object({ name: z.string().min(1).max(200).describe('connection name contains (case-insensitive)').optional() }).strict(),
  }, async ({ principal, params, query }) => ({ items: await adcsCas.servers(principal, params['id']!, query.name) }));
  route(app, {
    method: 'PUT', url: '/api/v1/cas/:id/servers', summary: 'Replace the servers of an ADCS CA', tag: 'cas',
    body: z.object({ servers: serversSchema }).strict(),
  }, async ({ principal, params, body }) => ({ items: await adcsCas.setServers(principal, params['id']!, body.servers) }));
  route(app, {
    method: 'GET', url: '/api/v1/cas/:id/templates', summary: 'Templates the CA servers offer to their connection accounts (cached; refresh=true asks the servers now)', tag: 'cas',
    query: z.object({ refresh: z.enum(['true', 'false']).default('false') }).strict(),
  }, async ({ principal, params, query }) => {
    requirePermission(principal, 'cas:read');
    const ca = await adcsCas.requireAdcsCa(params['id']!, { throughConnector: true });
    if (query.refresh === 'true') {
      requirePermission(principal, 'cas:manage');
      const report = await templates.refresh(ca);
      return { items: report.templates, errors: report.errors, brokenProfiles: report.brokenProfiles };
    }
    return { items: await templates.list(ca.id) };
  });

  route(app, {
    method: 'POST', url: '/api/v1/orders/:id/fetch', summary: 'Ask the CA now about a pending order', tag: 'orders',
  }, async ({ principal, params, reply }) => {
    const step = await pending.fetchNow(principal, params['id']!);
    if (step.order.status === 'pending' && step.order.next_poll_at) reply.header('retry-after', String(Math.max(1, Math.ceil((step.order.next_poll_at.getTime() - Date.now()) / 1000))));
    return { ...orderDto(step.order), ...(step.status === 'unreachable' ? { pollError: step.message } : {}) };
  });
  route(app, {
    method: 'DELETE', url: '/api/v1/orders/:id', summary: 'Cancel a pending order (it stays in the ADCS pending queue for a CA manager)', tag: 'orders',
  }, async ({ principal, params }) => {
    const order = await pending.cancel(principal, params['id']!);
    return { ...orderDto(order), note: cancelNote(order.ca_request_id) };
  });
}
