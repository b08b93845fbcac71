import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { REVOCATION_REASON_CODES, type RevocationReason } from '@certbridge/pki';
import type { ApplicationAccess } from '../../auth/application-access.ts';
import type { CertificateService } from '../../certificates/certificate-service.ts';
import type { CatalogService } from '../../issuance/catalog-service.ts';
import type { IssuanceService, IssueOutcome } from '../../issuance/issuance-service.ts';
import { keyAlgorithmSchema } from '../../issuance/policy-rules.ts';
import { sansFromInput, subjectFromInput } from '../../issuance/request-facts.ts';
import type { OrdersRepository } from '../../repositories/orders-repository.ts';
import { AppError, notFound } from '../../errors.ts';
import { certificateDto, certificateSummaryDto, orderDto } from '../dto.ts';
import { route } from '../route-table.ts';

const reasons = Object.keys(REVOCATION_REASON_CODES) as [RevocationReason, ...RevocationReason[]];
const sanSchema = z.union([z.string().min(3).max(1000), z.object({ type: z.string(), value: z.string().min(1).max(1000) }).strict()]);
const subjectSchema = z.union([z.string().min(1).max(2000), z.record(z.union([z.string().min(1).max(500), z.array(z.string().min(1).max(500)).max(20)]))]);

const issueBody = z.union([
  z.object({ profile: z.string().min(1), csr: z.string().min(1).max(64_000), validityDays: z.number().int().min(1).max(36500).optional() }).strict(),
  z.object({
    profile: z.string().min(1), subject: subjectSchema, sans: z.array(sanSchema).max(1000).default([]),
    keyAlgorithm: keyAlgorithmSchema.optional(), validityDays: z.number().int().min(1).max(36500).optional(),
    /** Needed when the profile's CA generates keys on an on-prem connector: the PKCS#12 is encrypted under it there. */
    pkcs12Password: z.string().min(8).max(200).optional(),
  }).strict(),
]);

/** 201 with the certificate, 202 with the pending order and Retry-After, or CA_REJECTED (SPEC). */
function renderOutcome(reply: FastifyReply, outcome: IssueOutcome) {
  if (outcome.status === 'issued') return reply.status(201).send({ order: orderDto(outcome.order), certificate: certificateDto(outcome.certificate) });
  if (outcome.status === 'pending') return reply.status(202).header('retry-after', String(outcome.retryAfterSeconds)).header('location', `/api/v1/orders/${outcome.order.id}`).send({ order: orderDto(outcome.order) });
  const reason = outcome.order.error?.['message'];
  throw new AppError('CA_REJECTED', typeof reason === 'string' ? reason : `the CA denied the request: ${outcome.order.disposition ?? 'no reason given'}`, {
    orderId: outcome.order.id, disposition: outcome.order.disposition, hresult: outcome.order.hresult, caRequestId: outcome.order.ca_request_id,
  });
}

export function registerCertificateRoutes(app: FastifyInstance, deps: { certificates: CertificateService; issuance: IssuanceService; catalog: CatalogService; access: ApplicationAccess; orders: OrdersRepository }): void {
  const { certificates, access } = deps;

  route(app, {
    method: 'POST', url: '/api/v1/applications/:appId/certificates', summary: 'Issue a certificate from a CSR or with a server-generated key', tag: 'certificates',
    body: issueBody, responses: { 201: 'Issued', 202: 'Pending CA approval; follow the order' },
  }, async ({ request, principal, params, body, reply }) => {
    // Looked up together under one catalogue counter (repositories/catalog-cache.ts): the one the
    // bearer-token statement read (http/authenticate.ts), else one check they share. The
    // application's verdict still comes first, so a caller without access learns nothing about the profile.
    const observed = request.catalogVersion;
    const [appLookup, profileLookup] = await Promise.allSettled([access.require(principal, params['appId']!, 'issue', observed), deps.catalog.requireProfileForIssue(body.profile, observed)]);
    if (appLookup.status === 'rejected') throw appLookup.reason;
    if (profileLookup.status === 'rejected') throw profileLookup.reason;
    const [application, { profile, catalogVersion }] = [appLookup.value, profileLookup.value];
    // The core reuses that check's counter for its own lookups instead of checking again.
    const ctx = { actor: principal, protocol: 'api' as const, application, profile, ...(catalogVersion ? { catalogVersion } : {}) };
    const validity = body.validityDays ? { validityDays: body.validityDays } : {};
    const outcome = 'csr' in body
      ? await deps.issuance.issue(ctx, { kind: 'csr', csr: body.csr, ...validity })
      : await deps.issuance.issue(ctx, { kind: 'keygen', subject: subjectFromInput(body.subject), sans: sansFromInput(body.sans), ...(body.keyAlgorithm ? { keyAlgorithm: body.keyAlgorithm } : {}), ...(body.pkcs12Password ? { pkcs12Password: body.pkcs12Password } : {}), ...validity });
    return renderOutcome(reply, outcome);
  });

  route(app, {
    method: 'GET', url: '/api/v1/certificates', summary: 'Inventory with filters and keyset pagination', tag: 'certificates',
    query: z.object({
      ca: z.string().uuid().optional(), application: z.string().uuid().optional(), profile: z.string().uuid().optional(),
      status: z.enum(['active', 'revoked', 'expired']).optional(), expiringBefore: z.coerce.date().optional(),
      q: z.string().min(1).max(200).optional(), serial: z.string().regex(/^[0-9a-fA-F:]{1,64}$/).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(50), cursor: z.string().max(200).optional(),
    }).strict(),
  }, async ({ principal, query }) => {
    const page = await certificates.list(principal, {
      ...(query.ca ? { caId: query.ca } : {}), ...(query.application ? { applicationId: query.application } : {}), ...(query.profile ? { profileId: query.profile } : {}),
      ...(query.status ? { status: query.status } : {}), ...(query.expiringBefore ? { expiringBefore: query.expiringBefore } : {}),
      ...(query.q ? { text: query.q } : {}), ...(query.serial ? { serialHex: query.serial.replace(/:/g, '').toLowerCase().replace(/^0+(?=..)/, '') } : {}),
    }, query.limit, query.cursor);
    return { items: page.items.map(certificateSummaryDto), nextCursor: page.nextCursor };
  });

  route(app, { method: 'GET', url: '/api/v1/certificates/:id', summary: 'Certificate detail', tag: 'certificates' }, async ({ principal, params }) =>
    certificateDto(await certificates.get(principal, params['id']!)));

  route(app, {
    method: 'GET', url: '/api/v1/certificates/:id/download', summary: 'Download as PEM, DER or PEM chain', tag: 'certificates',
    query: z.object({ format: z.enum(['pem', 'der', 'chain']).default('pem') }).strict(),
  }, async ({ principal, params, query, reply }) => {
    const file = await certificates.download(principal, params['id']!, query.format);
    return reply.type(file.contentType).header('content-disposition', `attachment; filename="${file.filename}"`).send(file.body);
  });
  route(app, {
    method: 'POST', url: '/api/v1/certificates/:id/download', summary: 'Download a PKCS#12 (server-generated keys only), protected by your password', tag: 'certificates',
    body: z.object({ format: z.literal('pkcs12').default('pkcs12'), password: z.string().min(8).max(1000) }).strict(),
  }, async ({ principal, params, body, reply }) => {
    const file = await certificates.download(principal, params['id']!, 'pkcs12', body.password);
    return reply.type(file.contentType).header('content-disposition', `attachment; filename="${file.filename}"`).send(file.body);
  });

  route(app, {
    method: 'POST', url: '/api/v1/certificates/:id/revoke', summary: 'Revoke with an RFC 5280 reason', tag: 'certificates',
    body: z.object({ reason: z.enum(reasons).default('unspecified') }).strict(),
  }, async ({ principal, params, body }) => certificateDto(await certificates.revoke(principal, params['id']!, body.reason)));

  route(app, {
    method: 'POST', url: '/api/v1/certificates/:id/renew', summary: 'Renew with the same subject and SANs', tag: 'certificates',
    body: z.object({ csr: z.string().min(1).max(64_000).optional(), reuseCsr: z.boolean().optional() }).strict().default({}),
    responses: { 201: 'Issued', 202: 'Pending CA approval' },
  }, async ({ principal, params, body, reply }) => renderOutcome(reply, await certificates.renew(principal, params['id']!, body)));

  route(app, {
    method: 'GET', url: '/api/v1/orders', summary: 'Orders the caller can see, newest first', tag: 'orders',
    query: z.object({
      status: z.enum(['pending', 'issued', 'denied', 'failed', 'cancelled']).optional(), limit: z.coerce.number().int().min(1).max(500).default(50),
      ca: z.string().min(1).max(200).describe('CA id or name').optional(), server: z.string().min(1).max(200).describe('ADCS server: connection id or name').optional(), template: z.string().min(1).max(200).optional(),
      requester: z.string().min(1).max(200).describe('user id or user name').optional(),
      domain: z.string().min(1).max(255).describe('ADCS domain (case-insensitive)').optional(), commonName: z.string().min(1).max(255).describe('subject common name contains (case-insensitive)').optional(),
    }).strict(),
  }, async ({ principal, query }) => ({
    items: (await deps.orders.list({
      applicationIds: await access.readableApplicationIds(principal), limit: query.limit, ...(query.status ? { status: query.status } : {}),
      ...(query.ca ? { caId: query.ca } : {}), ...(query.server ? { server: query.server } : {}), ...(query.template ? { template: query.template } : {}), ...(query.requester ? { requesterId: query.requester } : {}),
      ...(query.domain ? { domain: query.domain } : {}), ...(query.commonName ? { commonName: query.commonName } : {}),
    })).map(orderDto),
  }));
  route(app, { method: 'GET', url: '/api/v1/orders/:id', summary: 'Follow an order', tag: 'orders' }, async ({ principal, params, reply }) => {
    const order = await deps.orders.find(params['id']!);
    if (!order || !(await access.allows(principal, order.application_id, 'read'))) throw notFound('order', params['id']!);
    if (order.status === 'pending' && order.next_poll_at) reply.header('retry-after', String(Math.max(1, Math.ceil((order.next_poll_at.getTime() - Date.now()) / 1000))));
    return orderDto(order);
  });
}
