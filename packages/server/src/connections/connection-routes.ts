import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { route } from '../http/route-table.ts';
import type { AzureModule } from './azure/azure-module.ts';
import { registerAzureOauthRoutes } from './azure/azure-routes.ts';
import { azureCreateSchema, azureUpdateSchema } from './azure/azure-schemas.ts';
import { AZURE_CONNECTION_TYPES } from './azure/azure-tables.ts';
import { createConnectionKinds } from './connection-kinds.ts';
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
  keytab: z.string().min(1).max(100_000).describe('base64 of an MIT keytab holding <username>@<DOMAIN> (kerberos, negotiate); sealed, never returned; null removes it').nullable().optional(),
  kdcs: z.array(z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/, 'must be host or host:port')).max(8)
    .describe('KDCs of the realm (domain), host or host:port; the connection then uses only these, not the host krb5.conf').nullable().optional(),
};

const adcsCreate = z.object({ name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/), type: z.literal('adcs'), ...fields, password: fields.password.optional() }).strict();
const adcsPatch = z.object({ url: fields.url.optional(), domain: fields.domain.optional(), username: fields.username.optional(), password: fields.password.optional(), auth: authSchema.optional(), caPem: fields.caPem, rejectUnauthorized: fields.rejectUnauthorized, timeoutMs: fields.timeoutMs, maxSockets: fields.maxSockets, keytab: fields.keytab, kdcs: fields.kdcs }).strict();
/** `type` picks the schema; without one the body is an ADCS connection (as before Azure existed). */
const createBody = z.preprocess(
  (b) => (b && typeof b === 'object' && !Array.isArray(b) && !('type' in b) ? { ...b, type: 'adcs' } : b),
  z.discriminatedUnion('type', [adcsCreate, azureCreateSchema]),
);

/** Every field any kind may change, checked before the lookup; the connection's kind then refuses fields of other kinds. */
const patchBody = adcsPatch.merge(azureUpdateSchema);

/** `/api/v1/connections`: ADCS web enrollment and Azure connections (SPEC "Resources"), one registry of kinds. */
export function registerConnectionRoutes(app: FastifyInstance, deps: { connections: ConnectionService; azure: AzureModule }): void {
  const kinds = createConnectionKinds({ connections: deps.connections, azure: deps.azure, adcsPatchSchema: adcsPatch });
  route(app, {
    method: 'GET', url: '/api/v1/connections', tag: 'connections', query: z.object({ type: z.enum(['adcs', ...AZURE_CONNECTION_TYPES]).optional() }),
    summary: 'List connections, of every type or of one (?type=adcs); secrets are never returned',
  }, async ({ principal, query }) => ({ items: await kinds.list(principal, query.type) }));
  route(app, { method: 'GET', url: '/api/v1/connections/:id', summary: 'A connection by id or name', tag: 'connections' }, async ({ principal, params }) =>
    (await kinds.locate(principal, params['id']!)).dto());
  route(app, {
    method: 'POST', url: '/api/v1/connections', tag: 'connections', responses: { 201: 'Created' }, body: createBody,
    summary: `Create a connection: type adcs (default; password sealed; rejectUnauthorized defaults to true) or ${AZURE_CONNECTION_TYPES.join(' / ')} with method client-secret or certificate (OAuth: /connections/azure/oauth/start)`,
  }, async ({ principal, body, reply, request }) => reply.status(201).send(await kinds.create(principal, body.type, body, request.log)));
  route(app, {
    method: 'PATCH', url: '/api/v1/connections/:id', tag: 'connections', body: patchBody,
    summary: 'Change a connection with the fields of its type (send a secret to replace it; Azure client-secret connections: rotation settings)',
  }, async ({ principal, params, body, request }) => (await kinds.locate(principal, params['id']!, 'connections:manage')).update(principal, body, request.log));
  route(app, { method: 'DELETE', url: '/api/v1/connections/:id', summary: 'Delete a connection no CA uses', tag: 'connections', responses: { 204: 'Deleted' } }, async ({ principal, params, reply }) => {
    await (await kinds.locate(principal, params['id']!, 'connections:manage')).remove(principal);
    return reply.status(204).send();
  });
  route(app, {
    method: 'POST', url: '/api/v1/connections/:id/test',
    summary: 'Test a connection. ADCS: reachable, TLS (or the exact problem), auth, EPA required, CA name, templates, round trip. Azure: token, then one read-only Graph or Key Vault call', tag: 'connections',
  }, async ({ principal, params }) => (await kinds.locate(principal, params['id']!, 'connections:manage')).test(principal));
  route(app, {
    method: 'POST', url: '/api/v1/connections/:id/rotate-secret', tag: 'connections',
    summary: 'Rotate an azure-client-secrets connection\'s client secret now (rotation must be on): answers ok with the new keyId, or ok false with the error, and the connection',
  }, async ({ principal, params }) => (await kinds.locate(principal, params['id']!, 'connections:manage')).rotateSecret(principal));
  registerAzureOauthRoutes(app, { azure: deps.azure });
}
