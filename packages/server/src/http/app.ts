import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Core } from '../core.ts';
import { installAuthentication } from './authenticate.ts';
import { installErrorHandlers } from './error-handler.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { registerAuditRoutes } from './routes/audit-routes.ts';
import { registerAuthRoutes } from './routes/auth-routes.ts';
import { registerCaRoutes } from './routes/ca-routes.ts';
import { registerCatalogRoutes } from './routes/catalog-routes.ts';
import { registerCertificateRoutes } from './routes/certificate-routes.ts';
import { registerOrderEventRoutes } from './routes/order-events-routes.ts';
import { registerSystemRoutes } from './routes/system-routes.ts';
import { registerConnectionRoutes } from '../connections/connection-routes.ts';
import { registerAdcsRoutes } from '../ca-backends/adcs/adcs-routes.ts';
import { registerConnectorCaRoutes } from '../ca-backends/connector/connector-ca-routes.ts';
import { registerConnectorRoutes } from '../connectors/connector-routes.ts';
import { registerConnectorMetrics } from '../connectors/connector-metrics.ts';
import { registerSyncRoutes } from '../syncs/sync-routes.ts';
import { acmePlugin, type AcmeOptions } from '../enrollment/acme/acme-module.ts';
import { registerEnrollmentRoutes } from '../enrollment/enrollment-module.ts';
import { registerWebUi } from './web-ui.ts';
import { registerSecurityHeaders } from './security-headers.ts';
import { redactUrl } from './log-serializers.ts';

export interface AppOptions {
  publicUrl: string;
  /** A pino logger to use; none means no request logging (tests). */
  logger?: FastifyBaseLogger;
  https?: { key: string; cert: string };
  /** Secure cookies: on for HTTPS and for any public URL on https. */
  secureCookies?: boolean;
  /** ACME validation ports and resolver (SPEC CERTBRIDGE_ACME_*). */
  acme?: AcmeOptions;
}

/** Default request body limit; endpoints that take bigger bodies say so themselves. */
export const BODY_LIMIT = 256 * 1024;
/** Binary protocol bodies the server reads as raw bytes. */
const BINARY_TYPES = ['application/ocsp-request', 'application/pkcs10', 'application/octet-stream'];

/** Log redaction: credentials in headers and any secret-looking body field never reach the logs. */
export const REDACT_PATHS = ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-csrf-token"]', 'res.headers["set-cookie"]', '*.password', '*.privateKey', '*.token'];

/** Builds the HTTP app without listening (tests use `inject`). */
export async function buildApp(core: Core, options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    // Fastify's two info lines per request (serialised and written for every issuance at thousands
    // per second) become one debug line in the onResponse hook below; the error handler still logs
    // every failed request at info (and 500s at error).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    trustProxy: false,
    // Client certificates are requested, never required: EST and connectors verify them per endpoint.
    ...(options.https ? { https: { ...options.https, requestCert: true, rejectUnauthorized: false } } : {}),
  }) as unknown as FastifyInstance;
  await app.register(cookie);
  await registerSecurityHeaders(app, { https: Boolean(options.https) });
  app.addContentTypeParser(BINARY_TYPES, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  installErrorHandlers(app);
  installAuthentication(app, core.auth);

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  registerConnectorMetrics(metrics, core.connectors);
  const requests = new Counter({ name: 'certbridge_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [metrics] });
  const latency = new Histogram({ name: 'certbridge_http_request_duration_seconds', help: 'HTTP request latency', labelNames: ['method', 'route'], registers: [metrics], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5] });
  app.addHook('onResponse', async (request, reply) => {
    const routeUrl = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route: routeUrl, status: String(reply.statusCode) });
    latency.observe({ method: request.method, route: routeUrl }, reply.elapsedTime / 1000);
    request.log.debug({ method: request.method, url: redactUrl(request.url), statusCode: reply.statusCode, ms: reply.elapsedTime }, 'request completed');
  });

  registerSystemRoutes(app, { db: core.db, metrics, publicUrl: options.publicUrl });
  registerAuthRoutes(app, { auth: core.auth, secureCookies: options.secureCookies ?? Boolean(options.https) });
  registerCaRoutes(app, { cas: core.cas, crl: core.crl, ocsp: core.ocsp });
  registerCatalogRoutes(app, { catalog: core.catalog });
  registerCertificateRoutes(app, { certificates: core.certificates, issuance: core.issuance, catalog: core.catalog, access: core.access, orders: core.repos.orders });
  registerOrderEventRoutes(app, { feed: core.orderFeed, access: core.access });
  registerAuditRoutes(app, { db: core.db });
  registerConnectionRoutes(app, { connections: core.connections, azure: core.azure });
  registerAdcsRoutes(app, { adcsCas: core.adcs.cas, templates: core.adcs.templates, pending: core.adcs.pending, subordinates: core.adcs.subordinates });
  registerConnectorRoutes(app, { connectors: core.connectors.service });
  registerConnectorCaRoutes(app, { db: core.db, connectors: core.connectors.service, clock: core.clock });
  registerSyncRoutes(app, { syncs: core.syncs.service });
  await app.register(acmePlugin(core, { publicUrl: options.publicUrl, ...options.acme }));
  registerEnrollmentRoutes(app, core, { https: Boolean(options.https) });

  await app.register(swagger, { mode: 'static', specification: { document: buildOpenApiDocument(options.publicUrl) as never } });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  await registerWebUi(app);
  return app;
}
