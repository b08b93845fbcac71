import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { route } from '../http/route-table.ts';
import type { ConnectorsService } from './connectors-service.ts';
import type { ConnectorRow } from './connectors-tables.ts';

/** API representation: no token hash. */
export const connectorDto = (c: ConnectorRow, online: boolean) => ({
  id: c.id, name: c.name, site: c.site, status: c.status, online, version: c.version, lastHeartbeatAt: c.last_heartbeat_at,
  certificateSerial: c.serial_hex, certificateExpiresAt: c.cert_not_after, jobsDone: c.jobs_done, jobsFailed: c.jobs_failed,
  createdAt: c.created_at, updatedAt: c.updated_at,
});

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/);

/**
 * `/api/v1/connectors` (admin manages; operator and auditor read) and the connector's own
 * `POST /connector/v1/register`, which authenticates with the one-time token in its body.
 */
export function registerConnectorRoutes(app: FastifyInstance, deps: { connectors: ConnectorsService }): void {
  const { connectors } = deps;
  route(app, { method: 'GET', url: '/api/v1/connectors', summary: 'List on-prem connectors with status, heartbeat, certificate expiry and job counts', tag: 'connectors' }, async ({ principal }) =>
    ({ items: (await connectors.list(principal)).map((c) => connectorDto(c, connectors.isOnline(c))) }));
  route(app, { method: 'GET', url: '/api/v1/connectors/:id', summary: 'A connector by id or name', tag: 'connectors' }, async ({ principal, params }) => {
    const c = await connectors.get(principal, params['id']!);
    return connectorDto(c, connectors.isOnline(c));
  });
  route(app, {
    method: 'POST', url: '/api/v1/connectors', summary: 'Create a connector; returns its one-time registration token (shown once)', tag: 'connectors', responses: { 201: 'Created' },
    body: z.object({ name, site: z.string().max(200).default('') }).strict(),
  }, async ({ principal, body, reply }) => {
    const created = await connectors.create(principal, body);
    return reply.status(201).send({ ...connectorDto(created.connector, false), registrationToken: created.token, tokenExpiresAt: created.expiresAt });
  });
  route(app, { method: 'POST', url: '/api/v1/connectors/:id/token', summary: 'A new one-time registration token for a connector', tag: 'connectors' }, async ({ principal, params }) => {
    const t = await connectors.newToken(principal, params['id']!);
    return { registrationToken: t.token, tokenExpiresAt: t.expiresAt };
  });
  route(app, { method: 'POST', url: '/api/v1/connectors/:id/revoke', summary: 'Revoke a connector: its socket is dropped at once and it cannot reconnect', tag: 'connectors' }, async ({ principal, params }) => {
    const c = await connectors.revoke(principal, params['id']!);
    return connectorDto(c, false);
  });
  route(app, { method: 'GET', url: '/connector/v1/ca', summary: "The server's CA chain (PEM); a connector accepts it only if it matches the fingerprint in its token", tag: 'connectors', public: true }, async () =>
    ({ serverCaPem: await connectors.serverCaPem() }));
  route(app, {
    method: 'POST', url: '/connector/v1/register', summary: 'Connector registration: one-time token + CSR → client certificate and the CA chain to pin', tag: 'connectors', public: true,
    body: z.object({ token: z.string().min(10).max(300), csr: z.string().min(100).max(20_000), version: z.string().max(64).optional() }).strict(),
  }, async ({ body }) => connectors.register({ token: body.token, csrPem: body.csr, version: body.version }));
}
