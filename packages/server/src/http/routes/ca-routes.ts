import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { pemEncode } from '@certbridge/pki';
import type { CaService } from '../../cas/ca-service.ts';
import { keyAlgorithmSchema } from '../../issuance/policy-rules.ts';
import type { CrlService } from '../../revocation/crl-service.ts';
import type { OcspService } from '../../revocation/ocsp-service.ts';
import { caDto } from '../dto.ts';
import { route } from '../route-table.ts';
import { requirePermission } from '../../auth/rbac.ts';

const OCSP_BODY_LIMIT = 64 * 1024;

export function registerCaRoutes(app: FastifyInstance, deps: { cas: CaService; crl: CrlService; ocsp: OcspService }): void {
  const { cas } = deps;
  route(app, { method: 'GET', url: '/api/v1/cas', summary: 'List CAs', tag: 'cas' }, async ({ principal }) => ({ items: (await cas.list(principal)).map(caDto) }));
  route(app, { method: 'GET', url: '/api/v1/cas/:id', summary: 'A CA by id or name', tag: 'cas' }, async ({ principal, params }) => {
    requirePermission(principal, 'cas:read');
    return caDto(await cas.requireCa(params['id']!));
  });
  route(app, {
    method: 'POST', url: '/api/v1/cas', summary: 'Create an internal root or intermediate CA', tag: 'cas', responses: { 201: 'Created' },
    body: z.object({
      name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/),
      kind: z.enum(['root', 'intermediate']),
      parent: z.string().min(1).optional(),
      subject: z.string().min(1).max(1000),
      keyAlgorithm: keyAlgorithmSchema.default('EC-P384'),
      validityDays: z.number().int().min(1).max(36500).default(3650),
      pathLength: z.number().int().min(0).max(10).optional(),
    }).strict(),
  }, async ({ principal, body, reply }) => reply.status(201).send(caDto(await cas.create(principal, body))));
  route(app, {
    method: 'POST', url: '/api/v1/cas/import', summary: 'Import an existing CA certificate and key (PEM)', tag: 'cas', responses: { 201: 'Imported' },
    body: z.object({
      name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/),
      certificate: z.string().min(1).max(100_000),
      chain: z.string().max(500_000).optional(),
      privateKey: z.string().min(1).max(100_000),
    }).strict(),
  }, async ({ principal, body, reply }) =>
    reply.status(201).send(caDto(await cas.import(principal, { name: body.name, certificatePem: body.certificate, privateKeyPem: body.privateKey, ...(body.chain ? { chainPem: body.chain } : {}) }))));
  route(app, {
    method: 'PATCH', url: '/api/v1/cas/:id', summary: 'Enable or disable a CA; choose who signs its OCSP answers', tag: 'cas',
    body: z.object({ status: z.enum(['active', 'disabled']).optional(), ocspSigning: z.enum(['ca', 'delegated']).optional() }).strict(),
  }, async ({ principal, params, body }) => caDto(await cas.update(principal, params['id']!, body)));
  route(app, { method: 'GET', url: '/api/v1/cas/:id/chain', summary: 'The CA certificate and its issuers (PEM)', tag: 'cas' }, async ({ principal, params, reply }) => {
    requirePermission(principal, 'cas:read');
    reply.type('application/x-pem-file');
    return (await cas.chain(params['id']!)).map((d) => pemEncode('CERTIFICATE', d)).join('');
  });

  // Relying-party endpoints (SPEC "CA distribution"): public, binary, cacheable.
  route(app, { method: 'GET', url: '/ca/:file', summary: 'CA certificate (DER), /ca/{caId}.crt', tag: 'pki', public: true }, async ({ params, reply }) => {
    const id = params['file']!.replace(/\.(crt|cer|der)$/, '');
    const [der] = await cas.chain(id);
    reply.type('application/pkix-cert').header('cache-control', 'public, max-age=86400');
    return Buffer.from(der!);
  });
  route(app, { method: 'GET', url: '/crl/:file', summary: 'Current CRL (DER), /crl/{caId}.crl', tag: 'pki', public: true }, async ({ params, reply }) => {
    const der = await deps.crl.current(params['file']!.replace(/\.crl$/, ''));
    reply.type('application/pkix-crl').header('cache-control', 'public, max-age=300');
    return Buffer.from(der);
  });
  // RFC 6960 appendix A.1: GET carries the base64 (then URL-encoded) DER request in the path.
  route(app, { method: 'GET', url: '/ocsp/:caId/*', summary: 'OCSP (RFC 6960) GET', tag: 'pki', public: true }, async ({ params, reply }) => {
    // Fastify has already percent-decoded the path; decode once more for clients that encode twice,
    // leaving a stray '%' in place (decodeURIComponent would throw on it) so the request is just malformed.
    const encoded = (params['*'] ?? '').replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    const der = await deps.ocsp.respond(params['caId']!, new Uint8Array(Buffer.from(encoded, 'base64')));
    return reply.type('application/ocsp-response').send(Buffer.from(der));
  });
  route(app, { method: 'POST', url: '/ocsp/:caId', summary: 'OCSP (RFC 6960) POST, body application/ocsp-request', tag: 'pki', public: true, bodyLimit: OCSP_BODY_LIMIT }, async ({ request, params, reply }) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const der = await deps.ocsp.respond(params['caId']!, new Uint8Array(body));
    return reply.type('application/ocsp-response').send(Buffer.from(der));
  });
}
