import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { toAppError } from '../../http/error-handler.ts';
import { route } from '../../http/route-table.ts';
import { AppError } from '../../errors.ts';
import type { EnrollmentEndpoints, Endpoint } from '../settings/endpoints.ts';
import { openEnvelope, sealEnvelope } from './cms-envelope.ts';
import { failInfoOf } from './scep-errors.ts';
import { buildCertRep, buildDegenerate, decodePkiMessage, type CertRepInput } from './scep-message.ts';
import type { ScepRas } from './scep-ra.ts';
import type { ScepService } from './scep-service.ts';

/** RFC 8894 section 3.5.2 capabilities; DES3 for old clients (single DES is read, never offered). */
export const SCEP_CAPABILITIES = ['POSTPKIOperation', 'SHA-256', 'SHA-512', 'AES', 'DES3', 'SCEPStandard', 'Renewal'];
const PKI_MESSAGE = 'application/x-pki-message';
const SCEP_BODY_LIMIT = 128 * 1024;

const scepQuery = z.object({ operation: z.string().min(1).max(64), message: z.string().max(200_000).optional() }).passthrough();

function textError(request: FastifyRequest, reply: FastifyReply, thrown: unknown): FastifyReply {
  const err = toAppError(thrown);
  if (err.code === 'INTERNAL') request.log.error({ err: thrown }, 'SCEP request failed');
  else request.log.info({ code: err.code }, err.message);
  const kept: Partial<Record<typeof err.code, number>> = { NOT_FOUND: 404, INTERNAL: 500, CA_UNAVAILABLE: 503, PAYLOAD_TOO_LARGE: 413, UNSUPPORTED_MEDIA_TYPE: 415 };
  const status = kept[err.code] ?? 400;
  return reply.status(status).type('text/plain; charset=utf-8').send(`${err.message}\n`);
}

/**
 * SCEP (RFC 8894) at `/scep/{slug}` and `/scep/{slug}/pkiclient.exe`, on both listeners:
 * GetCACaps, GetCACert (RA, its issuer chain, the profile CA chain), PKIOperation by GET (base64 `message`) and POST (DER).
 * A body that is not a SignedData pkiMessage gets HTTP 400; once the message is read, every
 * failure is a CertRep FAILURE signed by the RA, with its failInfo.
 */
export function registerScepRoutes(app: FastifyInstance, deps: { endpoints: EnrollmentEndpoints; scep: ScepService; ras: ScepRas }): void {
  const { endpoints, scep, ras } = deps;

  async function pkiOperation(request: FastifyRequest, reply: FastifyReply, ep: Endpoint, der: Uint8Array) {
    const msg = decodePkiMessage(der);
    const base: Omit<CertRepInput, 'status'> = { ra: ras.current(ep), digestName: msg.digestName, transactionId: msg.transactionId, recipientNonce: msg.senderNonce };
    let answer: CertRepInput;
    try {
      if (!msg.signatureValid) throw new AppError('BAD_REQUEST', 'the pkiMessage signature does not verify', { failInfo: 'badMessageCheck' });
      if (!msg.envelope) throw new AppError('BAD_REQUEST', 'the pkiMessage has no pkcsPKIEnvelope');
      const keys = await ras.decryptionKeys(ep);
      const { content, cipherOid, key } = openEnvelope(msg.envelope, keys);
      // A client that encrypted to an RA retired by a rotation (grace period) verifies the answer with that RA.
      if (key !== keys[0] && key.certificateDer) base.ra = { certificateDer: key.certificateDer, privateKey: key.privateKey };
      const result = await scep.handle(ep, { messageType: msg.messageType, transactionId: msg.transactionId, signerCertificateDer: msg.signerCertificateDer, content });
      answer = result.status === 'PENDING'
        ? { ...base, status: 'PENDING' }
        : { ...base, status: 'SUCCESS', envelope: sealEnvelope(buildDegenerate(result.certs, result.crls), msg.signerCertificateDer, cipherOid) };
    } catch (thrown) {
      const err = toAppError(thrown);
      if (err.code === 'INTERNAL') request.log.error({ err: thrown, transactionId: msg.transactionId }, 'SCEP operation failed');
      else request.log.info({ code: err.code, transactionId: msg.transactionId, messageType: msg.messageType }, err.message);
      answer = { ...base, status: 'FAILURE', failInfo: failInfoOf(err) };
    }
    return reply.status(200).type(PKI_MESSAGE).send(Buffer.from(buildCertRep(answer)));
  }

  async function dispatch(request: FastifyRequest, reply: FastifyReply, slug: string, query: z.infer<typeof scepQuery>, body: unknown) {
    try {
      const ep = await endpoints.resolve('scep', slug);
      switch (query.operation) {
        case 'GetCACaps':
          return reply.type('text/plain').send(SCEP_CAPABILITIES.join('\n'));
        case 'GetCACert':
          return reply.type('application/x-x509-ca-ra-cert').send(Buffer.from(buildDegenerate(await ras.caCerts(ep))));
        case 'PKIOperation': {
          const der = request.method === 'GET' ? Buffer.from((query.message ?? '').replace(/ /g, '+'), 'base64') : Buffer.isBuffer(body) ? body : Buffer.alloc(0);
          if (der.length === 0) throw new AppError('BAD_REQUEST', 'PKIOperation needs a pkiMessage (POST body or GET message parameter)');
          return await pkiOperation(request, reply, ep, new Uint8Array(der));
        }
        default:
          throw new AppError('BAD_REQUEST', `operation ${query.operation} is not supported`);
      }
    } catch (err) {
      return textError(request, reply, err);
    }
  }

  // A scope of their own: a query or media type refused before a handler runs is a SCEP text error too.
  void app.register(async (scope) => {
    scope.setErrorHandler((err, request, reply) => textError(request, reply, err));
    scope.addContentTypeParser([PKI_MESSAGE, 'application/x-pki-message; charset=binary'], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    for (const url of ['/scep/:slug', '/scep/:slug/pkiclient.exe']) {
      for (const method of ['GET', 'POST'] as const) {
        route(scope, {
          method, url, public: true, tag: 'scep', query: scepQuery, bodyLimit: SCEP_BODY_LIMIT,
          summary: `SCEP (RFC 8894) ${method === 'GET' ? 'GetCACaps, GetCACert, PKIOperation (base64 message)' : 'PKIOperation (DER pkiMessage body)'}`,
        }, async ({ request, reply, params, query, body }) => dispatch(request, reply, params['slug']!, query, method === 'POST' ? request.body : body));
      }
    }
  });
}
