import type { FastifyRequest } from 'fastify';
import type { Clock } from '../../clock.ts';
import type { CatalogRepository } from '../../repositories/catalog-repository.ts';
import type { AcmeRepository } from './acme-repository.ts';
import type { AccountRow } from './acme-tables.ts';
import { urls, type AcmeDirectory } from './acme-views.ts';
import { decodeJws, decodePayload, importAccountKey, verifySignature, type ProtectedHeader } from './jws.ts';
import { AcmeProblem } from './problems.ts';
import { createRequestAuthLookup } from './request-auth-lookup.ts';
import type { ResourceFound, ResourceRead } from './resource-reads.ts';

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
  /**
   * The resource the caller asked `decode` to read, when the statement that consumed the nonce
   * read it (resource-reads.ts); unset when it was not read that way (the handler reads it).
   */
  resource?: ResourceFound;
}

/**
 * The decode and authenticate steps of every ACME POST (RFC 8555 section 6.2-6.5): content
 * type, flattened JWS, algorithm, url equal to the request URL, exactly one of jwk/kid as the
 * endpoint requires, an existing valid account for kid, the signature, then the single-use nonce.
 */
export function createAcmeRequestDecoder(deps: { repo: AcmeRepository; catalog: Pick<CatalogRepository, 'profileWithFirstApplication'>; clock: Clock; publicUrl: string }) {
  const { repo, catalog, clock, publicUrl } = deps;
  const authLookup = createRequestAuthLookup(repo);

  const baseOf = (slug: string) => `${publicUrl}/acme/${encodeURIComponent(slug)}`;

  /**
   * The directory of `/acme/{slug}`: the profile and the (first by name) application it is
   * attached to, read through the catalogue cache (no staleness window, see catalog-cache.ts);
   * `catalogVersion` is the counter when a statement of this request has already read it.
   */
  async function directory(slug: string, catalogVersion?: string): Promise<AcmeDirectory> {
    const { profile, application } = await catalog.profileWithFirstApplication(slug, catalogVersion);
    if (!profile || !application) throw new AcmeProblem('notFound', `no ACME directory ${JSON.stringify(slug)}: no such profile, or it is attached to no application`);
    return { profile, application, base: baseOf(slug), ...(catalogVersion ? { catalogVersion } : {}) };
  }

  /** The UUID of the account a kid names in this directory, or '' (then no such account exists here). */
  const accountIdOf = (kid: string, slug: string) => {
    const prefix = urls(baseOf(slug)).account('');
    const id = kid.startsWith(prefix) ? kid.slice(prefix.length) : '';
    return UUID.test(id) ? id : '';
  };

  /** `read`: a resource the handler will need, read in the nonce's statement when there is one. */
  async function decode(request: FastifyRequest, slug: string, signer: Signer, read?: ResourceRead): Promise<AcmeCall> {
    const type = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== JOSE_JSON) throw new AcmeProblem('unsupportedMediaType', `ACME requests must be sent as ${JOSE_JSON}`);
    // The checks that need no database run first, but their errors are reported after the
    // directory's (an unknown directory is notFound whatever the body).
    let decoded: ReturnType<typeof decodeJws> | undefined;
    let invalid: unknown;
    try {
      decoded = decodeJws(request.body);
      if (decoded.header.url !== `${publicUrl}${request.url}`) throw new AcmeProblem('unauthorized', `the JWS url ${JSON.stringify(decoded.header.url)} is not the URL this request was sent to`);
    } catch (err) {
      invalid = err;
    }
    // A kid-signed request consumes its nonce and reads its account and the catalogue counter in
    // one batched round trip (request-auth-lookup.ts); the nonce is judged last, as before. A nonce
    // that is not base64url is never one of ours; the batched statement must not see it (section 6.5.1).
    const kid = !invalid && signer !== 'jwk' ? decoded?.header.kid : undefined;
    const kidAccountId = kid ? accountIdOf(kid, slug) : '';
    const nonce = decoded?.header.nonce;
    const auth = kidAccountId && nonce && NONCE.test(nonce) ? await authLookup.consume(nonce, kidAccountId, clock.now(), read) : undefined;
    const dir = await directory(slug, auth?.catalogVersion);
    if (invalid || !decoded) throw invalid;
    const { jws, header } = decoded;
    let account: AccountRow | undefined;
    let key;
    let nonceOk: boolean | undefined;
    if (header.jwk) {
      if (signer === 'kid') throw new AcmeProblem('malformed', 'this resource must be signed by an account key ("kid"), not "jwk"');
      key = await importAccountKey(header.jwk, header.alg);
    } else {
      if (signer === 'jwk') throw new AcmeProblem('malformed', 'this resource must be signed with "jwk", not "kid"');
      if (auth) ({ nonceOk, account } = auth);
      else if (kidAccountId) account = await repo.findAccount(kidAccountId);
      if (!account || account.profile_id !== dir.profile.id) throw new AcmeProblem('accountDoesNotExist', `no account ${JSON.stringify(header.kid)} in this directory`);
      if (account.status !== 'valid') throw new AcmeProblem('unauthorized', `the account is ${account.status}`);
      key = await importAccountKey(account.jwk, header.alg);
    }
    await verifySignature(jws, key);
    if (!header.nonce) throw new AcmeProblem('badNonce', 'the JWS protected header has no nonce');
    if (nonceOk === undefined && !NONCE.test(header.nonce)) throw new AcmeProblem('badNonce', 'the nonce is not base64url (section 6.5.1)');
    nonceOk ??= await repo.consumeNonce(header.nonce, clock.now());
    if (!nonceOk) throw new AcmeProblem('badNonce', 'the nonce is unknown, expired or already used');
    return { dir, header, payload: decodePayload(jws), ...(account ? { account } : {}), ...(header.jwk ? { jwk: header.jwk } : {}), ...(auth?.resource ? { resource: auth.resource } : {}) };
  }

  return { directory, decode };
}

export type AcmeRequestDecoder = ReturnType<typeof createAcmeRequestDecoder>;

/** The account of a kid-signed call (the decoder guarantees it for signer 'kid'). */
export function accountOf(call: AcmeCall): AccountRow {
  if (!call.account) throw new AcmeProblem('malformed', 'this resource must be signed by an account key');
  return call.account;
}
