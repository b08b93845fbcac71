import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { route } from '../../http/route-table.ts';
import type { AcmeModule } from './acme-module.ts';

const TAG = 'acme';
/** DNS globs (`*.corp.example`, `**.corp.example`) or IP CIDR blocks, as in policies. */
const patternsSchema = z.array(z.string().min(1).max(253)).max(100);

/**
 * External account binding keys per application (RFC 8555 section 7.3.4), managed by the
 * application's owners through the admin API. The HMAC key is shown once, at creation.
 */
export function registerAcmeEabRoutes(app: FastifyInstance, m: AcmeModule): void {
  route(app, {
    method: 'POST', url: '/api/v1/applications/:appId/acme/eab-keys', summary: 'Create an ACME EAB key (kid + base64url HMAC key, shown once)', tag: TAG,
    body: z.object({ identifierPatterns: patternsSchema.optional() }).strict().default({}), responses: { 201: 'Created' },
  }, async ({ principal, params, body, reply }) => {
    const application = await m.access.require(principal, params['appId']!, 'manage-members');
    const key = await m.accounts.createEabKey(application.id, body.identifierPatterns ?? []);
    await m.audit({ actor: principal, action: 'acme.eab-key.create', resourceType: 'application', resourceId: application.id, outcome: 'success', details: { keyId: key.keyId } });
    return reply.status(201).send(key);
  });

  route(app, { method: 'GET', url: '/api/v1/applications/:appId/acme/eab-keys', summary: 'List the ACME EAB keys of an application (without secrets)', tag: TAG }, async ({ principal, params }) => {
    const application = await m.access.require(principal, params['appId']!, 'manage-members');
    const keys = await m.repo.listEabKeys(application.id);
    return { items: keys.map((k) => ({ keyId: k.id, identifierPatterns: k.identifier_patterns, boundAccount: k.account_id, createdAt: k.created_at })) };
  });

  route(app, {
    method: 'PUT', url: '/api/v1/applications/:appId/acme/settings', summary: 'ACME settings of an application: require EAB for new accounts', tag: TAG,
    body: z.object({ eabRequired: z.boolean() }).strict(),
  }, async ({ principal, params, body }) => {
    const application = await m.access.require(principal, params['appId']!, 'manage-members');
    await m.repo.setEabRequired(application.id, body.eabRequired);
    await m.audit({ actor: principal, action: 'acme.settings.update', resourceType: 'application', resourceId: application.id, outcome: 'success', details: body });
    return { eabRequired: body.eabRequired };
  });
}
