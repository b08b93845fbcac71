import type { ApplicationRow, ProfileRow } from '../../db/schema.ts';
import type { AccountRow, AcmeOrderRow, AuthorizationRow, ChallengeRow } from './acme-tables.ts';

/** One ACME directory: a profile, the application it issues for, and its URL base. */
export interface AcmeDirectory {
  profile: ProfileRow;
  application: ApplicationRow;
  /** `<public URL>/acme/<slug>` */
  base: string;
  /**
   * The catalogue counter the request read the directory under, when a statement of the request
   * read it (see catalog-cache.ts): its other catalogue reads use it instead of asking again.
   */
  catalogVersion?: string;
}

/** Resource URLs (RFC 8555 section 7.1); the path segments are the routes of acme-routes.ts. */
const buildUrls = (base: string) => ({
  directory: `${base}/directory`,
  newNonce: `${base}/new-nonce`,
  newAccount: `${base}/new-account`,
  newOrder: `${base}/new-order`,
  revokeCert: `${base}/revoke-cert`,
  keyChange: `${base}/key-change`,
  renewalInfo: `${base}/renewal-info`,
  account: (id: string) => `${base}/acct/${id}`,
  orders: (accountId: string) => `${base}/acct/${accountId}/orders`,
  order: (id: string) => `${base}/order/${id}`,
  finalize: (id: string) => `${base}/order/${id}/finalize`,
  authz: (id: string) => `${base}/authz/${id}`,
  challenge: (id: string) => `${base}/chall/${id}`,
  certificate: (id: string) => `${base}/cert/${id}`,
});

export type AcmeUrls = Readonly<ReturnType<typeof buildUrls>>;

/** Built once per directory base (every answer renders several); any slug can be asked, so the map is bounded. */
const urlsByBase = new Map<string, AcmeUrls>();
const URLS_MAX = 1000;

/** The resource URLs of the directory at `base`. */
export function urls(base: string): AcmeUrls {
  let u = urlsByBase.get(base);
  if (!u) {
    u = Object.freeze(buildUrls(base));
    if (urlsByBase.size >= URLS_MAX) urlsByBase.clear();
    urlsByBase.set(base, u);
  }
  return u;
}

/** Section 7.1.1. `meta.externalAccountRequired` tells clients to send EAB. */
export function directoryView(dir: AcmeDirectory, eabRequired: boolean) {
  const u = urls(dir.base);
  return {
    newNonce: u.newNonce, newAccount: u.newAccount, newOrder: u.newOrder, revokeCert: u.revokeCert, keyChange: u.keyChange, renewalInfo: u.renewalInfo,
    meta: { website: dir.base.replace(/\/acme\/[^/]+$/, '/'), externalAccountRequired: eabRequired, profiles: { [dir.profile.slug]: dir.profile.name } },
  };
}

export const accountView = (u: AcmeUrls, a: AccountRow) => ({
  status: a.status, contact: a.contact, orders: u.orders(a.id), createdAt: a.created_at,
});

export function challengeView(u: AcmeUrls, c: ChallengeRow) {
  // "processing" is what the client sees while the validator retries (section 7.1.6).
  return {
    type: c.type, url: u.challenge(c.id), token: c.token, status: c.status,
    ...(c.validated_at ? { validated: c.validated_at.toISOString() } : {}),
    ...(c.error ? { error: c.error } : {}),
  };
}

export const authorizationView = (u: AcmeUrls, a: AuthorizationRow, challenges: ChallengeRow[]) => ({
  identifier: { type: a.identifier_type, value: a.identifier_value },
  status: a.status,
  expires: a.expires_at.toISOString(),
  challenges: challenges.map((c) => challengeView(u, c)),
  ...(a.wildcard ? { wildcard: true } : {}),
});

export const orderView = (u: AcmeUrls, o: AcmeOrderRow, authzIds: string[]) => ({
  status: o.status,
  expires: o.expires_at.toISOString(),
  identifiers: o.identifiers,
  authorizations: authzIds.map((id) => u.authz(id)),
  finalize: u.finalize(o.id),
  ...(o.certificate_id ? { certificate: u.certificate(o.certificate_id) } : {}),
  ...(o.error ? { error: o.error } : {}),
});
