import type { FastifyRequest } from 'fastify';
import type { Clock } from '../../clock.ts';
import type { CatalogRepository } from '../../repositories/catalog-repository.ts';
import type { AcmeRepository } from './acme-repository.ts';
import type { AccountRow } from './acme-tables.ts';
import { urls, type AcmeDirectory } from './acme-views.ts';
import { decodeJws, decodePayload, importAccountKey, verifySignature, type ProtectedHeader } from './jws.ts';
import { AcmeProblem } from './problems.ts';
import { createRequestAuthLookup } from './request-auth-lookup.ts';

export const JOSE_JSON = 'application/jose+json';

export type Signer = 'kid' | 'jwk' | 'either';

/** A well-formed UUID (account ids); anything else would make the database refuse the batched statement. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NONCE = /^[A-Za-z0-9_-]{1,200}$/;

export interface AcmeCall {
  dir: AcmeDirectory;
  header: ProtectedHeader;
  /** Decoded JSON payload; null for POST-as-GET. */
  payload: unknown;
  /** Set when the JWS was signed by an account (kid). */
  account?: AccountRow;
  /** Set when the JWS carried its key (jwk). */
  jwk?: Record<string, unknown>;
}

/**
 * The decode and authenticate steps of every ACME POST (RFC 8555 section 6.2-6.5): content
 * type, flattened JWS, algorithm, url equal to the request URL, exactly one of jwk/kid as the
 * endpoint requires, an existing valid account for kid, the signature, then the single-use nonce.
 */
export function createAcmeRequestDecoder(deps: { repo: AcmeRepository; catalog: Pick<CatalogRepository, 'findProfile' | 'firstApplicationOfProfile'>; clock: Clock; publicUrl: string }) {
  const { repo, catalog, clock, publicUrl } = deps;
  const authLookup = createRequestAuthLookup(repo);

  /**
   * The directory of `/acme/{slug}`: the profile and the (first by name) application it is
   * attached to, read through the catalogue cache (no staleness window, see catalog-cache.ts).
   */
  async function directory(slug: string): Promise<AcmeDirectory> {
    const profile = await catalog.findProfile(slug);
    const application = profile && profile.slug === slug ? await catalog.firstApplicationOfProfile(profile.id) : undefined;
    if (!profile || !application) throw new AcmeProblem('notFound', `no ACME directory ${JSON.stringify(slug)}: no such profile, or it is attached to no application`);
    return { profile, application, base: `${publicUrl}/acme/${encodeURIComponent(slug)}` };
  }

  async function decode(request: FastifyRequest, slug: string, signer: Signer): Promise<AcmeCall> {
    const type = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== JOSE_JSON) throw new AcmeProblem('unsupportedMediaType', `ACME requests must be sent as ${JOSE_JSON}`);
    const dir = await directory(slug);
    const { jws, header } = decodeJws(request.body);
    if (header.url !== `${publicUrl}${request.url}`) throw new AcmeProblem('unauthorized', `the JWS url ${JSON.stringify(header.url)} is not the URL this request was sent to`);
    let account: AccountRow | undefined;
    let key;
    let nonceOk: boolean | undefined;
    if (header.jwk) {
      if (signer === 'kid') throw new AcmeProblem('malformed', 'this resource must be signed by an account key ("kid"), not "jwk"');
      key = await importAccountKey(header.jwk, header.alg);
    } else {
      if (signer === 'jwk') throw new AcmeProblem('malformed', 'this resource must be signed with "jwk", not "kid"');
      const prefix = urls(dir.base).account('');
      const id = header.kid!.startsWith(prefix) ? header.kid!.slice(prefix.length) : '';
      if (UUID.test(id)) {
        // The nonce is consumed with the account lookup (one round trip); it is judged last, as before.
        // A nonce that is not base64url is never one of ours; the batched statement must not see it (section 6.5.1).
        if (header.nonce && NONCE.test(header.nonce)) ({ nonceOk, account } = await authLookup.consume(header.nonce, id, clock.now()));
        else account = await repo.findAccount(id);
      }
      if (!account || account.profile_id !== dir.profile.id) throw new AcmeProblem('accountDoesNotExist', `no account ${JSON.stringify(header.kid)} in this directory`);
      if (account.status !== 'valid') throw new AcmeProblem('unauthorized', `the account is ${account.status}`);
      key = await importAccountKey(account.jwk, header.alg);
    }
    await verifySignature(jws, key);
    if (!header.nonce) throw new AcmeProblem('badNonce', 'the JWS protected header has no nonce');
    if (nonceOk === undefined && !NONCE.test(header.nonce)) throw new AcmeProblem('badNonce', 'the nonce is not base64url (section 6.5.1)');
    nonceOk ??= await repo.consumeNonce(header.nonce, clock.now());
    if (!nonceOk) throw new AcmeProblem('badNonce', 'the nonce is unknown, expired or already used');
    return { dir, header, payload: decodePayload(jws), ...(account ? { account } : {}), ...(header.jwk ? { jwk: header.jwk } : {}) };
  }

  return { directory, decode };
}

export type AcmeRequestDecoder = ReturnType<typeof createAcmeRequestDecoder>;

/** The account of a kid-signed call (the decoder guarantees it for signer 'kid'). */
export function accountOf(call: AcmeCall): AccountRow {
  if (!call.account) throw new AcmeProblem('malformed', 'this resource must be signed by an account key');
  return call.account;
}
