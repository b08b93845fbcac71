import type { FastifyInstance, FastifyReply } from 'fastify';
import type { z, ZodTypeAny } from 'zod';
import { route } from '../../http/route-table.ts';
import type { AcmeModule } from './acme-module.ts';
import { accountOf, type AcmeCall, type Signer } from './acme-request.ts';
import type { AcmeOrderRow } from './acme-tables.ts';
import { accountView, authorizationView, challengeView, directoryView, orderView, urls } from './acme-views.ts';
import { accountUpdatePayload, newAccountPayload } from './acme-accounts.ts';
import { revokePayload } from './acme-revocation.ts';
import { RENEWAL_INFO_RETRY_AFTER_SECONDS } from './renewal-info.ts';
import { identifiersSchema, normaliseIdentifiers } from './identifiers.ts';
import { AcmeProblem } from './problems.ts';
import type { FoundByKind, ResourceRead } from './resource-reads.ts';
import { z as zod } from 'zod';

const TAG = 'acme';
/** A well-formed UUID (anything else would make the database refuse the whole statement). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const newOrderPayload = zod.object({ identifiers: identifiersSchema, notBefore: zod.string().optional(), notAfter: zod.string().optional() }).passthrough();
const finalizePayload = zod.object({ csr: zod.string().regex(/^[A-Za-z0-9_-]+$/, 'not base64url') }).passthrough();
const keyChangePayload = zod.object({ protected: zod.string(), payload: zod.string(), signature: zod.string() }).passthrough();
const challengeResponsePayload = zod.object({}).passthrough();

/** Validate step: a payload schema, or POST-as-GET (null payload) where the resource allows it. */
function payloadOf<S extends ZodTypeAny>(call: AcmeCall, schema: S): z.infer<S> {
  const parsed = schema.safeParse(call.payload);
  if (!parsed.success) throw new AcmeProblem('malformed', `the payload is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'} ${i.message}`).join('; ')}`);
  return parsed.data;
}
const requireEmpty = (call: AcmeCall) => {
  if (call.payload !== null) throw new AcmeProblem('malformed', 'this resource is fetched with POST-as-GET (empty payload)');
};

/** The resource as `decode` read it with the nonce (resource-reads.ts), else as `load` reads it now. */
const resourceOf = <K extends keyof FoundByKind>(call: AcmeCall, kind: K, load: () => Promise<FoundByKind[K]>): FoundByKind[K] | Promise<FoundByKind[K]> =>
  call.resource?.kind === kind ? (call.resource.found as FoundByKind[K]) : load();
/** The resource a route's `:id` names, for `decode` to read with the nonce; nothing for an id that is no UUID. */
const readById = (kind: ResourceRead['kind']) => (params: Record<string, string>): ResourceRead | undefined => (UUID.test(params['id']!) ? { kind, id: params['id']! } : undefined);

/**
 * ACME wire code (RFC 8555 section 7): each handler decodes and authenticates the JWS, validates
 * the payload, loads and checks ownership, makes one service call and renders.
 */
export function registerAcmeRoutes(app: FastifyInstance, m: AcmeModule): void {
  const post = (url: string, summary: string, signer: Signer, handler: (call: AcmeCall, params: Record<string, string>, reply: FastifyReply) => Promise<unknown>, read?: (params: Record<string, string>) => ResourceRead | undefined) =>
    route(app, { method: 'POST', url: `/acme/:slug/${url}`, summary, tag: TAG, public: true, bodyLimit: 64 * 1024 }, async ({ request, params, reply }) =>
      handler(await m.decoder.decode(request, params['slug']!, signer, read?.(params)), params, reply));
  const location = (reply: FastifyReply, url: string) => reply.header('location', url);
  const renderOrder = async (call: AcmeCall, reply: FastifyReply, result: { order: AcmeOrderRow; authzIds?: string[]; retryAfterSeconds?: number }) => {
    if (result.retryAfterSeconds !== undefined) reply.header('retry-after', String(result.retryAfterSeconds));
    const authzIds = result.authzIds ?? (await m.repo.orderAuthorizations(result.order.id)).map((a) => a.id);
    return orderView(urls(call.dir.base), result.order, authzIds);
  };

  route(app, { method: 'GET', url: '/acme/:slug/directory', summary: 'ACME directory (RFC 8555 7.1.1) of a profile (slug). Accounts issue for the first application (by name) the profile is attached to; an EAB key selects its own application instead', tag: TAG, public: true }, async ({ params }) => {
    const dir = await m.decoder.directory(params['slug']!);
    return directoryView(dir, await m.repo.eabRequired(dir.application.id));
  });
  route(app, { method: 'GET', url: '/acme/:slug/new-nonce', summary: 'A fresh nonce in Replay-Nonce (HEAD 200, GET 204)', tag: TAG, public: true }, async ({ request, params, reply }) => {
    await m.decoder.directory(params['slug']!);
    return reply.status(request.method === 'HEAD' ? 200 : 204).header('cache-control', 'no-store').send();
  });

  route(app, { method: 'GET', url: '/acme/:slug/renewal-info/:certId', summary: 'ACME Renewal Information (draft-ietf-acme-ari): the suggested renewal window', tag: TAG, public: true }, async ({ params, reply }) => {
    const dir = await m.decoder.directory(params['slug']!);
    const info = await m.renewalInfo.window(dir, params['certId']!);
    return reply.header('retry-after', String(RENEWAL_INFO_RETRY_AFTER_SECONDS)).send(info);
  });

  post('new-account', 'Create or find the account of the JWS key (7.3)', 'jwk', async (call, _p, reply) => {
    const payload = payloadOf(call, newAccountPayload);
    const { account, created } = await m.accounts.newAccount(call.dir, call.jwk!, payload, urls(call.dir.base).newAccount);
    return location(reply.status(created ? 201 : 200), urls(call.dir.base).account(account.id)).send(accountView(urls(call.dir.base), account));
  });
  post('acct/:id', 'Fetch, update or deactivate the account (7.3.2, 7.3.6)', 'kid', async (call, params) => {
    const account = accountOf(call);
    if (account.id !== params['id']) throw new AcmeProblem('unauthorized', 'the JWS is signed by another account');
    const updated = call.payload === null ? account : await m.accounts.update(account, payloadOf(call, accountUpdatePayload));
    return accountView(urls(call.dir.base), updated);
  });
  post('acct/:id/orders', 'The account\'s orders, newest first (7.1.2.1)', 'kid', async (call, params) => {
    requireEmpty(call);
    const account = accountOf(call);
    if (account.id !== params['id']) throw new AcmeProblem('unauthorized', 'the JWS is signed by another account');
    const rows = await m.repo.listOrders(account.id, 1000);
    return { orders: rows.map((r) => urls(call.dir.base).order(r.id)) };
  });
  post('key-change', 'Roll the account key over (7.3.5)', 'kid', async (call) => {
    const inner = payloadOf(call, keyChangePayload);
    const account = accountOf(call);
    const u = urls(call.dir.base);
    const updated = await m.accounts.keyChange(call.dir, account, inner, u.keyChange, u.account(account.id), m.importKey);
    return accountView(u, updated);
  });
  post('new-order', 'Apply for a certificate (7.4)', 'kid', async (call, _p, reply) => {
    const payload = payloadOf(call, newOrderPayload);
    if (payload.notBefore || payload.notAfter) throw new AcmeProblem('malformed', 'notBefore and notAfter are not supported: the profile sets the validity');
    const identifiers = normaliseIdentifiers(payload.identifiers);
    const { order, authzIds } = await m.orders.newOrder(call.dir, accountOf(call), identifiers);
    const u = urls(call.dir.base);
    return location(reply.status(201), u.order(order.id)).send(orderView(u, order, authzIds));
  });
  post('order/:id', 'The order (POST-as-GET)', 'kid', async (call, params, reply) => {
    requireEmpty(call);
    const id = params['id']!;
    const found = UUID.test(id) ? await resourceOf(call, 'order', () => m.repo.findOrderWithAuthorizations(id)) : undefined;
    if (!found || found.order.account_id !== accountOf(call).id) throw new AcmeProblem('notFound', `no order ${id} for this account`);
    let { order } = found;
    // Two authorizations settled at the same moment may each have missed the other (settleValidation).
    if (order.status === 'pending' && found.authorizations.length && found.authorizations.every((a) => a.status === 'valid')) order = (await m.repo.readyIfAuthorized(order.id)) ?? order;
    return renderOrder(call, reply, { ...(await m.orders.refresh(order)), authzIds: found.authorizations.map((a) => a.id) });
  }, readById('order'));
  post('order/:id/finalize', 'Submit the CSR through the issuance core (7.4)', 'kid', async (call, params, reply) => {
    const { csr } = payloadOf(call, finalizePayload);
    const result = await m.orders.finalize(call.dir, accountOf(call), params['id']!, Buffer.from(csr, 'base64url'));
    return renderOrder(call, location(reply, urls(call.dir.base).order(result.order.id)), result);
  });
  post('authz/:id', 'An authorization (POST-as-GET) or its deactivation (7.5.2)', 'kid', async (call, params) => {
    const found = UUID.test(params['id']!) ? await resourceOf(call, 'authz', () => m.repo.findAuthorizationWithChallenges(params['id']!)) : undefined;
    if (!found || found.authz.account_id !== accountOf(call).id) throw new AcmeProblem('notFound', `no authorization ${params['id']} for this account`);
    if (call.payload === null) return authorizationView(urls(call.dir.base), found.authz, found.challenges);
    payloadOf(call, zod.object({ status: zod.literal('deactivated') }).passthrough());
    const current = await m.orders.deactivateAuthorization(found.authz);
    return authorizationView(urls(call.dir.base), current, found.challenges);
  }, readById('authz'));
  post('chall/:id', 'Respond to a challenge ({}) or fetch it (POST-as-GET) (7.5.1)', 'kid', async (call, params, reply) => {
    const id = params['id']!;
    const account = accountOf(call);
    // The challenge as the nonce's statement read it; a response ({}) then starts its validation.
    const responding = call.payload !== null && challengeResponsePayload.safeParse(call.payload).success;
    const read = UUID.test(id) ? await resourceOf(call, 'chall', () => m.repo.findChallengeWithAuthorization(id)) : undefined;
    if (!read || read.authz.account_id !== account.id) throw new AcmeProblem('notFound', `no challenge ${id} for this account`);
    const found = responding ? await m.runner.respond(account, read) : read;
    const u = urls(call.dir.base);
    reply.header('link', `<${u.authz(found.authz.id)}>;rel="up"`);
    // A payload that is neither empty (POST-as-GET) nor an object: malformed, saying why.
    if (call.payload !== null && !responding) payloadOf(call, challengeResponsePayload);
    return challengeView(u, found.challenge);
  }, readById('chall'));
  /*
   * No `Link: rel="alternate"` (7.4.2): a certificate has exactly one issuer chain here (the
   * internal intermediate and root, or the chain of the ADCS server that issued it), and no CA
   * is cross-signed or re-certified under the same key, so no second path to another trust
   * anchor exists. "With or without the root" is not an alternate: both end at the same anchor,
   * and clients choose chains by the issuer of the topmost certificate, which is the same.
   */
  post('cert/:id', 'Download the certificate chain as PEM (7.4.2)', 'kid', async (call, params, reply) => {
    requireEmpty(call);
    const cert = UUID.test(params['id']!) ? await resourceOf(call, 'cert', () => m.repo.findAccountCertificate(params['id']!, accountOf(call).id)) : undefined;
    if (!cert) throw new AcmeProblem('notFound', `no certificate ${params['id']} for this account`);
    return reply.type('application/pem-certificate-chain').send(m.orders.chainPem(cert));
  }, readById('cert'));
  post('revoke-cert', 'Revoke by account key or certificate key (7.6)', 'either', async (call, _p, reply) => {
    await m.revocation.revoke(call.dir, call, payloadOf(call, revokePayload));
    return reply.status(200).send();
  });
}
