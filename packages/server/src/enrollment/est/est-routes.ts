import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { route } from '../../http/route-table.ts';
import { parseProfileDefaults } from '../../issuance/catalog-service.ts';
import type { EnrollmentEndpoints, Endpoint } from '../settings/endpoints.ts';
import { authenticateEst } from './est-auth.ts';
import type { EstEnrollment, EstResult } from './est-enrollment.ts';
import { sendEstError } from './est-errors.ts';
import { PKCS7_CERTS_ONLY, base64Lines, certsOnlyBody, csrAttrsDer, decodePkcs10Body, serverKeygenBody } from './est-wire.ts';

const EST_BODY_LIMIT = 64 * 1024;
const REALM = 'certbridge-est';

type Operation = 'cacerts' | 'csrattrs' | 'simpleenroll' | 'simplereenroll' | 'serverkeygen';

/**
 * RFC 7030 endpoints, registered on the HTTPS listener only: `/.well-known/est/{label}/…` where
 * the label is a profile slug, and `/.well-known/est/…` for the default endpoint. Each handler:
 * decode (base64 PKCS#10), authenticate, one EstEnrollment call, render; errors as text/plain.
 */
export function registerEstRoutes(app: FastifyInstance, deps: { endpoints: EnrollmentEndpoints; est: EstEnrollment }): void {
  const { endpoints, est } = deps;

  function renderEnrollment(reply: FastifyReply, result: EstResult, keygen: boolean) {
    if (result.status === 'pending') return reply.status(202).header('retry-after', String(result.retryAfterSeconds)).type('text/plain; charset=utf-8').send('the request is waiting for CA approval; retry later\n');
    if (keygen && result.privateKeyPkcs8) {
      const multipart = serverKeygenBody(result.privateKeyPkcs8, result.certificateDer);
      return reply.status(200).type(multipart.contentType).send(multipart.body);
    }
    return reply.status(200).header('content-transfer-encoding', 'base64').type(PKCS7_CERTS_ONLY).send(certsOnlyBody([result.certificateDer]));
  }

  const handlers: Record<Operation, (request: FastifyRequest, reply: FastifyReply, ep: Endpoint) => Promise<unknown>> = {
    cacerts: async (_request, reply, ep) => reply.header('content-transfer-encoding', 'base64').type('application/pkcs7-mime').send(certsOnlyBody(await endpoints.caChain(ep))),
    csrattrs: async (_request, reply, ep) =>
      reply.header('content-transfer-encoding', 'base64').type('application/csrattrs').send(base64Lines(csrAttrsDer(parseProfileDefaults(ep.profile.defaults).keyAlgorithm))),
    simpleenroll: async (request, reply, ep) => {
      const csr = decodePkcs10Body(request.body);
      const client = await authenticateEst(request, ep, endpoints);
      return renderEnrollment(reply, await est.enroll(ep, csr, client.identity), false);
    },
    simplereenroll: async (request, reply, ep) => {
      const csr = decodePkcs10Body(request.body);
      const client = await authenticateEst(request, ep, endpoints, true);
      return renderEnrollment(reply, await est.reenroll(ep, csr, client.identity, client.certificate!), false);
    },
    serverkeygen: async (request, reply, ep) => {
      const csr = decodePkcs10Body(request.body);
      const client = await authenticateEst(request, ep, endpoints);
      return renderEnrollment(reply, await est.serverKeygen(ep, csr, client.identity), true);
    },
  };

  const methods: Record<Operation, 'GET' | 'POST'> = { cacerts: 'GET', csrattrs: 'GET', simpleenroll: 'POST', simplereenroll: 'POST', serverkeygen: 'POST' };
  // A scope of their own: what fails before a handler runs (media type, body size) is an EST text error too.
  void app.register(async (scope) => {
    scope.setErrorHandler((err, request, reply) => sendEstError(request, reply, err));
    for (const op of Object.keys(handlers) as Operation[]) {
      for (const url of [`/.well-known/est/:label/${op}`, `/.well-known/est/${op}`]) {
        route(scope, {
          method: methods[op], url, public: true, tag: 'est', bodyLimit: EST_BODY_LIMIT,
          summary: `EST ${op} (RFC 7030)${url.includes(':label') ? ', label = profile slug' : ', default endpoint'}`,
        }, async ({ request, reply, params }) => {
          let ep: Endpoint | undefined;
          try {
            ep = await endpoints.resolve('est', params['label']);
            return await handlers[op](request, reply, ep);
          } catch (err) {
            return sendEstError(request, reply, err, { basicRealm: ep && ep.settings.est_auth !== 'certificate' ? REALM : undefined });
          }
        });
      }
    }
  });
}
