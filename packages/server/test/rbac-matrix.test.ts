import { randomUUID } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { CertID, OCSPRequest, Request, TBSRequest } from '@peculiar/asn1-ocsp';
import {
  buildCsr, generateKeyPair, issuerHashes, parseCertificate, parseDn, pemEncode, randomSerial, signCertificate, spkiOf,
} from '@certbridge/pki';
import type { AdcsSim } from '@certbridge/adcs-sim';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../src/auth/principal.ts';
import { documentedRoutes } from '../src/http/route-table.ts';
import { SIM_PASSWORD, simConfig, startSim } from './adcs-fixtures.ts';
import { ENGINES, bearer, createTestEnv, userWithToken, type TestEnv } from './helpers.ts';
import { PUBLIC_URL, cloudOf, followAuthorize, startAzureWorld, type AzureWorld } from './azure-fixtures.ts';

/**
 * Issue 2 item 5: every route registered through `route()` against every role. One row per
 * route (a few routes have a second row for a different target), one expected status per
 * caller. Allowed callers send valid input and get the real success status; denied callers get
 * 401 (anonymous), 403 (may see the resource, may not act) or 404 (may not even see it).
 */

const CALLERS = ['admin', 'operator', 'member', 'outsider', 'auditor', 'anonymous'] as const;
type Caller = (typeof CALLERS)[number];
type Expected = Record<Caller, number>;

/** Positional: admin, operator, requester member of app A, requester outside app A, auditor, anonymous. */
const s = (admin: number, operator: number, member: number, outsider: number, auditor: number, anonymous: number): Expected =>
  ({ admin, operator, member, outsider, auditor, anonymous });
const PUBLIC_200 = s(200, 200, 200, 200, 200, 200);
const AUTHED_200 = s(200, 200, 200, 200, 200, 401);
const READERS_200 = s(200, 200, 403, 403, 200, 401);

const PASSWORD = 'correct horse battery staple';
const CODE_BY_STATUS: Record<number, string> = { 400: 'VALIDATION_FAILED', 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 404: 'NOT_FOUND' };

interface Identity { id: string; username: string; token: string }

interface Fixtures {
  env: TestEnv;
  admin: Principal;
  users: Record<Exclude<Caller, 'anonymous'>, Identity>;
  /** A user no caller is: target of user, token and membership changes, and the anonymous login. */
  spare: Identity;
  appA: string;
  appB: string;
  caId: string;
  caName: string;
  policy: string;
  profile: string;
  certA: string;
  certB: string;
  keygenCertA: string;
  memberKeygenCertA: string;
  orderA: string;
  orderB: string;
  /** An ADCS connection and CA whose only server does not answer (nothing here needs a real ADCS). */
  connection: string;
  adcsCaId: string;
  /** An ADCS CA over an adcs-sim that issues from the SubCA template. */
  simCaId: string;
  /** ACME renewal information certID (base64url AKI "." base64url serial) of a certificate of the enrollment profile. */
  ariCertId: string;
  /** The Azure emulator the OAuth rows sign in to (issue 8). */
  azure: AzureWorld;
}

interface Req { url: string; payload?: object | Buffer; headers?: Record<string, string> }
interface Row {
  route: string;
  /** Which target, when a route has more than one row. */
  variant?: string;
  expect: Expected;
  /** Protocol endpoints refuse in their own format: the expected ACME problem type instead of an error code. */
  problem?: string;
  request(f: Fixtures, caller: Caller): Req | Promise<Req>;
}

let seq = 0;
const uniq = () => `${Date.now().toString(36)}${(seq++).toString(36)}`;

function csrPem(cn: string): string {
  const pair = generateKeyPair('EC-P256');
  return pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn(`CN=${cn}`), sans: [{ type: 'dns', value: cn }], privateKey: pair.privateKey, publicKey: pair.publicKey }));
}

/** A self-signed CA certificate and its PKCS#8 key, for the import route. */
function caMaterial(cn: string): { certificate: string; privateKey: string } {
  const keys = generateKeyPair('EC-P256');
  const now = Date.now();
  const der = signCertificate({
    serialNumber: randomSerial(), subject: parseDn(`CN=${cn}`), spkiDer: spkiOf(keys.publicKey),
    notBefore: new Date(now - 60_000), notAfter: new Date(now + 86_400_000), ca: {}, keyUsages: ['keyCertSign', 'cRLSign'],
  }, { selfSigned: keys.privateKey });
  return { certificate: pemEncode('CERTIFICATE', der), privateKey: String(keys.privateKey.export({ type: 'pkcs8', format: 'pem' })) };
}

/** A DER OCSPRequest (RFC 6960 section 4.1.1) for one serial of the given CA, SHA-1 CertID. */
function ocspRequest(caDer: Uint8Array, serial: Uint8Array = randomSerial()): Buffer {
  const hashes = issuerHashes(caDer, '1.3.14.3.2.26')!;
  const certId = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: '1.3.14.3.2.26', parameters: new Uint8Array([5, 0]).buffer }),
    issuerNameHash: new OctetString(hashes.nameHash.slice().buffer),
    issuerKeyHash: new OctetString(hashes.keyHash.slice().buffer),
    serialNumber: serial.slice().buffer,
  });
  return Buffer.from(AsnConvert.serialize(new OCSPRequest({ tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certId })] }) })));
}

/** Issues a fresh certificate in an application through the API and returns its id. */
async function issued(f: Fixtures, app: string, token: string): Promise<{ certificateId: string; orderId: string }> {
  const res = await f.env.app.inject({ method: 'POST', url: `/api/v1/applications/${app}/certificates`, headers: bearer(token), payload: { profile: 'default-tls', csr: csrPem(`m-${uniq()}.example.test`) } });
  if (res.statusCode !== 201) throw new Error(`fixture issuance failed: ${res.statusCode} ${res.body}`);
  const body = res.json<{ certificate: { id: string }; order: { id: string } }>();
  return { certificateId: body.certificate.id, orderId: body.order.id };
}

/** A profile attached to app A only, with SCEP on (dynamic challenges): the ACME and SCEP endpoints of the matrix. */
const ENROLL_PROFILE = 'matrix-enroll';
const ENROLL_SETTINGS = { scep: { enabled: true, challenge: 'dynamic' } };
/** The ACME POST resources (RFC 8555 section 7.1); `:id` is filled with a random UUID. */
const ACME_POSTS = ['new-account', 'acct/:id', 'acct/:id/orders', 'key-change', 'new-order', 'order/:id', 'order/:id/finalize', 'authz/:id', 'chall/:id', 'cert/:id', 'revoke-cert'];

/** An ADCS connection to a port nothing listens on: probes and polls fail fast and harmlessly. */
const connectionBody = (name: string) => ({ name, url: 'https://127.0.0.1:9/certsrv', domain: 'CORP', username: 'alice', password: 'Passw0rd!', auth: 'basic' as const, timeoutMs: 500 });

/** A pending order of app A on the ADCS CA, as if ADCS had answered "taken under submission". */
async function pendingAdcsOrder(f: Fixtures): Promise<string> {
  const profile = (await f.env.core.repos.catalog.findProfile('default-tls'))!;
  const application = (await f.env.core.repos.catalog.findApplication(f.appA))!;
  const id = randomUUID();
  await f.env.core.repos.orders.insert({
    id, application_id: application.id, profile_id: profile.id, ca_id: f.adcsCaId, requester_id: f.users.member.id, protocol: 'api', status: 'pending',
    csr_der: null, subject: 'CN=pending.example.test', sans: '[]', key_algorithm: 'EC-P256', server_key_sealed: null, ca_request_id: '4711',
    ca_server: null, template: 'WebServer', disposition: null, hresult: null, error: null, next_poll_at: null, certificate_id: null, created_at: new Date(),
  });
  return id;
}

const callerUser = (f: Fixtures, caller: Caller): Identity => (caller === 'anonymous' ? f.spare : f.users[caller]);
const fixedUrl = (url: string) => () => ({ url });
const newConnector = (f: Fixtures) => f.env.core.connectors.service.create(f.admin, { name: `conn-${uniq()}`, site: 'matrix' });

/** Key Vault syncs (issue 8): an azure-key-vault connection per environment (no Azure is contacted: no queue runs jobs here). */
const kvConnections = new WeakMap<object, Promise<string>>();
function kvConnection(f: Fixtures): Promise<string> {
  let made = kvConnections.get(f.env);
  if (!made) {
    made = f.env.core.azure.connections.create(f.admin, {
      name: 'matrix-kv', type: 'azure-key-vault', method: 'client-secret', tenantId: '8c5e3b5e-1111-4a3b-9c1d-0e2f3a4b5c6d',
      clientId: '0b7d2f43-2222-4b6c-8d7e-1f2a3b4c5d6e', clientSecret: 'matrix secret', vaultName: 'matrix-vault',
    }).then((c) => c.id);
    kvConnections.set(f.env, made);
  }
  return made;
}
const syncBody = async (f: Fixtures) => ({ name: `sync-${uniq()}`, connection: await kvConnection(f), applications: [f.appA] });
const newSync = async (f: Fixtures) => (await f.env.core.syncs.service.create(f.admin, await syncBody(f))).id;

const ROWS: Row[] = [
  // system (public)
  { route: 'GET /healthz', expect: PUBLIC_200, request: fixedUrl('/healthz') },
  { route: 'GET /readyz', expect: PUBLIC_200, request: fixedUrl('/readyz') },
  { route: 'GET /metrics', expect: PUBLIC_200, request: fixedUrl('/metrics') },
  { route: 'GET /api/v1/openapi.json', expect: PUBLIC_200, request: fixedUrl('/api/v1/openapi.json') },

  // auth, users, tokens
  { route: 'POST /api/v1/auth/login', expect: PUBLIC_200, request: (f, c) => ({ url: '/api/v1/auth/login', payload: { username: callerUser(f, c).username, password: PASSWORD } }) },
  { route: 'POST /api/v1/auth/logout', expect: s(204, 204, 204, 204, 204, 401), request: fixedUrl('/api/v1/auth/logout') },
  { route: 'GET /api/v1/auth/me', expect: AUTHED_200, request: fixedUrl('/api/v1/auth/me') },
  { route: 'GET /api/v1/users', expect: s(200, 403, 403, 403, 403, 401), request: fixedUrl('/api/v1/users') },
  { route: 'POST /api/v1/users', expect: s(201, 403, 403, 403, 403, 401), request: () => ({ url: '/api/v1/users', payload: { username: `u-${uniq()}`, password: PASSWORD, role: 'requester' } }) },
  { route: 'PATCH /api/v1/users/:id', variant: 'another user', expect: s(200, 403, 403, 403, 403, 401), request: (f) => ({ url: `/api/v1/users/${f.spare.id}`, payload: { disabled: false } }) },
  { route: 'PATCH /api/v1/users/:id', variant: 'own password', expect: s(200, 200, 200, 200, 200, 401), request: (f, c) => ({ url: `/api/v1/users/${callerUser(f, c).id}`, payload: { password: PASSWORD } }) },
  { route: 'GET /api/v1/tokens', expect: AUTHED_200, request: fixedUrl('/api/v1/tokens') },
  { route: 'POST /api/v1/tokens', variant: 'own token', expect: s(201, 201, 201, 201, 201, 401), request: () => ({ url: '/api/v1/tokens', payload: { name: `t-${uniq()}` } }) },
  { route: 'POST /api/v1/tokens', variant: 'for another user', expect: s(201, 403, 403, 403, 403, 401), request: (f) => ({ url: '/api/v1/tokens', payload: { name: `t-${uniq()}`, userId: f.spare.id } }) },
  {
    route: 'DELETE /api/v1/tokens/:id', variant: 'own token', expect: s(204, 204, 204, 204, 204, 401),
    request: async (f, c) => ({ url: `/api/v1/tokens/${(await f.env.core.auth.createToken(f.admin, { name: `t-${uniq()}`, userId: callerUser(f, c).id })).id}` }),
  },
  {
    route: 'DELETE /api/v1/tokens/:id', variant: "another user's token", expect: s(204, 404, 404, 404, 404, 401),
    request: async (f) => ({ url: `/api/v1/tokens/${(await f.env.core.auth.createToken(f.admin, { name: `t-${uniq()}`, userId: f.spare.id })).id}` }),
  },

  // CAs and the relying-party endpoints
  { route: 'GET /api/v1/cas', expect: READERS_200, request: fixedUrl('/api/v1/cas') },
  { route: 'GET /api/v1/cas/:id', expect: READERS_200, request: (f) => ({ url: `/api/v1/cas/${f.caId}` }) },
  { route: 'POST /api/v1/cas', expect: s(201, 403, 403, 403, 403, 401), request: () => ({ url: '/api/v1/cas', payload: { name: `root-${uniq()}`, kind: 'root', subject: `CN=Matrix Root ${uniq()}`, keyAlgorithm: 'EC-P256' } }) },
  { route: 'POST /api/v1/cas/import', expect: s(201, 403, 403, 403, 403, 401), request: () => ({ url: '/api/v1/cas/import', payload: { name: `imported-${uniq()}`, ...caMaterial(`Imported ${uniq()}`) } }) },
  { route: 'PATCH /api/v1/cas/:id', expect: s(200, 403, 403, 403, 403, 401), request: (f) => ({ url: `/api/v1/cas/${f.caId}`, payload: { status: 'active' } }) },
  { route: 'GET /api/v1/cas/:id/chain', expect: READERS_200, request: (f) => ({ url: `/api/v1/cas/${f.caId}/chain` }) },
  { route: 'GET /ca/:file', expect: PUBLIC_200, request: (f) => ({ url: `/ca/${f.caId}.crt` }) },
  { route: 'GET /crl/:file', expect: PUBLIC_200, request: (f) => ({ url: `/crl/${f.caId}.crl` }) },
  {
    route: 'GET /ocsp/:caId/*', expect: PUBLIC_200,
    request: async (f) => {
      const ca = (await f.env.core.repos.cas.find(f.caId))!;
      return { url: `/ocsp/${f.caId}/${encodeURIComponent(ocspRequest(ca.certificate_der!).toString('base64'))}` };
    },
  },
  {
    route: 'POST /ocsp/:caId', expect: PUBLIC_200,
    request: async (f) => {
      const ca = (await f.env.core.repos.cas.find(f.caId))!;
      return { url: `/ocsp/${f.caId}`, payload: ocspRequest(ca.certificate_der!), headers: { 'content-type': 'application/ocsp-request' } };
    },
  },

  // policies and profiles
  { route: 'GET /api/v1/policies', expect: READERS_200, request: fixedUrl('/api/v1/policies') },
  { route: 'GET /api/v1/policies/:id', expect: READERS_200, request: (f) => ({ url: `/api/v1/policies/${f.policy}` }) },
  { route: 'POST /api/v1/policies', expect: s(201, 201, 403, 403, 403, 401), request: () => ({ url: '/api/v1/policies', payload: { name: `pol-${uniq()}`, rules: {} } }) },
  { route: 'PATCH /api/v1/policies/:id', expect: s(200, 200, 403, 403, 403, 401), request: (f) => ({ url: `/api/v1/policies/${f.policy}`, payload: { description: 'changed by the matrix' } }) },
  { route: 'GET /api/v1/profiles', expect: READERS_200, request: fixedUrl('/api/v1/profiles') },
  { route: 'GET /api/v1/profiles/:id', expect: READERS_200, request: (f) => ({ url: `/api/v1/profiles/${f.profile}` }) },
  { route: 'POST /api/v1/profiles', expect: s(201, 201, 403, 403, 403, 401), request: (f) => ({ url: '/api/v1/profiles', payload: { slug: `prof-${uniq()}`, ca: f.caId, policy: f.policy } }) },
  { route: 'PATCH /api/v1/profiles/:id', expect: s(200, 200, 403, 403, 403, 401), request: (f) => ({ url: `/api/v1/profiles/${f.profile}`, payload: { name: 'Changed by the matrix' } }) },

  // applications and members
  { route: 'GET /api/v1/applications', expect: AUTHED_200, request: fixedUrl('/api/v1/applications') },
  { route: 'GET /api/v1/applications/:appId', variant: 'app A', expect: s(200, 200, 200, 404, 200, 401), request: (f) => ({ url: `/api/v1/applications/${f.appA}` }) },
  { route: 'GET /api/v1/applications/:appId', variant: 'app B', expect: s(200, 200, 404, 404, 200, 401), request: (f) => ({ url: `/api/v1/applications/${f.appB}` }) },
  { route: 'POST /api/v1/applications', expect: s(201, 201, 403, 403, 403, 401), request: () => ({ url: '/api/v1/applications', payload: { name: `app-${uniq()}`, profiles: ['default-tls'] } }) },
  { route: 'PATCH /api/v1/applications/:appId', expect: s(200, 200, 403, 403, 403, 401), request: (f) => ({ url: `/api/v1/applications/${f.appA}`, payload: { description: 'changed by the matrix' } }) },
  { route: 'PUT /api/v1/applications/:appId/members', variant: 'app A', expect: s(200, 200, 403, 404, 403, 401), request: (f) => ({ url: `/api/v1/applications/${f.appA}/members`, payload: { user: f.spare.username, role: 'viewer' } }) },
  { route: 'PUT /api/v1/applications/:appId/members', variant: 'app B', expect: s(200, 200, 404, 404, 403, 401), request: (f) => ({ url: `/api/v1/applications/${f.appB}/members`, payload: { user: f.spare.username, role: 'viewer' } }) },
  {
    route: 'DELETE /api/v1/applications/:appId/members/:userId', expect: s(204, 204, 403, 404, 403, 401),
    request: async (f) => {
      await f.env.core.catalog.setMember(f.admin, f.appA, { user: f.spare.id, role: 'viewer' });
      return { url: `/api/v1/applications/${f.appA}/members/${f.spare.id}` };
    },
  },

  // issuance, inventory, orders
  { route: 'POST /api/v1/applications/:appId/certificates', variant: 'app A', expect: s(201, 201, 201, 404, 403, 401), request: (f) => ({ url: `/api/v1/applications/${f.appA}/certificates`, payload: { profile: 'default-tls', csr: csrPem(`i-${uniq()}.example.test`) } }) },
  { route: 'POST /api/v1/applications/:appId/certificates', variant: 'app B', expect: s(201, 201, 404, 404, 403, 401), request: (f) => ({ url: `/api/v1/applications/${f.appB}/certificates`, payload: { profile: 'default-tls', csr: csrPem(`i-${uniq()}.example.test`) } }) },
  { route: 'GET /api/v1/certificates', expect: AUTHED_200, request: fixedUrl('/api/v1/certificates') },
  { route: 'GET /api/v1/certificates/:id', variant: 'app A', expect: s(200, 200, 200, 404, 200, 401), request: (f) => ({ url: `/api/v1/certificates/${f.certA}` }) },
  { route: 'GET /api/v1/certificates/:id', variant: 'app B', expect: s(200, 200, 404, 404, 200, 401), request: (f) => ({ url: `/api/v1/certificates/${f.certB}` }) },
  { route: 'GET /api/v1/certificates/:id/download', variant: 'app A', expect: s(200, 200, 200, 404, 200, 401), request: (f) => ({ url: `/api/v1/certificates/${f.certA}/download?format=chain` }) },
  { route: 'GET /api/v1/certificates/:id/download', variant: 'app B', expect: s(200, 200, 404, 404, 200, 401), request: (f) => ({ url: `/api/v1/certificates/${f.certB}/download?format=der` }) },
  // The private key of a certificate someone else requested: only who manages the whole application.
  { route: 'POST /api/v1/certificates/:id/download', variant: "admin's key in app A", expect: s(200, 200, 403, 404, 403, 401), request: (f) => ({ url: `/api/v1/certificates/${f.keygenCertA}/download`, payload: { password: 'a long passphrase' } }) },
  { route: 'POST /api/v1/certificates/:id/download', variant: "member's own key", expect: s(200, 200, 200, 404, 403, 401), request: (f) => ({ url: `/api/v1/certificates/${f.memberKeygenCertA}/download`, payload: { password: 'a long passphrase' } }) },
  {
    route: 'POST /api/v1/certificates/:id/revoke', variant: "admin's certificate in app A", expect: s(200, 200, 403, 404, 403, 401),
    request: async (f) => ({ url: `/api/v1/certificates/${(await issued(f, f.appA, f.users.admin.token)).certificateId}/revoke`, payload: { reason: 'superseded' } }),
  },
  {
    route: 'POST /api/v1/certificates/:id/revoke', variant: "member's own certificate", expect: s(200, 200, 200, 404, 403, 401),
    request: async (f) => ({ url: `/api/v1/certificates/${(await issued(f, f.appA, f.users.member.token)).certificateId}/revoke`, payload: { reason: 'keyCompromise' } }),
  },
  { route: 'POST /api/v1/certificates/:id/renew', variant: 'app A', expect: s(201, 201, 201, 404, 403, 401), request: (f) => ({ url: `/api/v1/certificates/${f.certA}/renew`, payload: {} }) },
  { route: 'POST /api/v1/certificates/:id/renew', variant: 'app B', expect: s(201, 201, 404, 404, 403, 401), request: (f) => ({ url: `/api/v1/certificates/${f.certB}/renew`, payload: {} }) },
  { route: 'GET /api/v1/orders', expect: AUTHED_200, request: fixedUrl('/api/v1/orders') },
  { route: 'GET /api/v1/orders/events', expect: AUTHED_200, request: fixedUrl('/api/v1/orders/events?maxSeconds=0') },
  { route: 'GET /api/v1/orders/:id', variant: 'app A', expect: s(200, 200, 200, 404, 200, 401), request: (f) => ({ url: `/api/v1/orders/${f.orderA}` }) },
  { route: 'GET /api/v1/orders/:id', variant: 'app B', expect: s(200, 200, 404, 404, 200, 401), request: (f) => ({ url: `/api/v1/orders/${f.orderB}` }) },

  // ADCS connections and CAs
  { route: 'GET /api/v1/connections', expect: READERS_200, request: fixedUrl('/api/v1/connections') },
  { route: 'GET /api/v1/connections/:id', expect: READERS_200, request: (f) => ({ url: `/api/v1/connections/${f.connection}` }) },
  { route: 'POST /api/v1/connections', expect: s(201, 403, 403, 403, 403, 401), request: () => ({ url: '/api/v1/connections', payload: connectionBody(`conn-${uniq()}`) }) },
  { route: 'PATCH /api/v1/connections/:id', expect: s(200, 403, 403, 403, 403, 401), request: (f) => ({ url: `/api/v1/connections/${f.connection}`, payload: { timeoutMs: 500 } }) },
  {
    route: 'DELETE /api/v1/connections/:id', expect: s(204, 403, 403, 403, 403, 401),
    request: async (f) => ({ url: `/api/v1/connections/${(await f.env.core.connections.create(f.admin, { type: 'adcs', ...connectionBody(`conn-${uniq()}`) })).id}` }),
  },
  { route: 'POST /api/v1/connections/:id/test', expect: s(200, 403, 403, 403, 403, 401), request: (f) => ({ url: `/api/v1/connections/${f.connection}/test` }) },
  // Past the permission check an ADCS connection is refused (400: Certbridge rotates only Graph client secrets); azure-rotation.test.ts rotates one
  { route: 'POST /api/v1/connections/:id/rotate-secret', expect: s(400, 403, 403, 403, 403, 401), request: (f) => ({ url: `/api/v1/connections/${f.connection}/rotate-secret` }) },
  // Azure OAuth sign-in (issue 8): only connection managers start one; the redirect URI is public (the state stands for the admin who started it)
  { route: 'POST /api/v1/connections/azure/oauth/start', expect: s(200, 403, 403, 403, 403, 401), request: (f) => ({ url: '/api/v1/connections/azure/oauth/start', payload: { name: `oauth-${uniq()}`, type: 'azure-key-vault', tenantId: f.azure.tenantId, ...cloudOf(f.azure) } }) },
  {
    route: 'GET /api/v1/connections/azure/oauth/callback', expect: s(201, 201, 201, 201, 201, 201),
    request: async (f) => {
      const started = await f.env.core.azure.oauth.start(f.admin, { name: `oauth-${uniq()}`, type: 'azure-key-vault', tenantId: f.azure.tenantId, ...cloudOf(f.azure) });
      return { url: `/api/v1/connections/azure/oauth/callback${(await followAuthorize(f.azure, started.authorizeUrl)).search}` };
    },
  },

  // On-prem connectors (issue 7)
  { route: 'GET /api/v1/connectors', expect: READERS_200, request: fixedUrl('/api/v1/connectors') },
  { route: 'GET /api/v1/connectors/:id', expect: READERS_200, request: async (f) => ({ url: `/api/v1/connectors/${(await newConnector(f)).connector.id}` }) },
  { route: 'POST /api/v1/connectors', expect: s(201, 403, 403, 403, 403, 401), request: () => ({ url: '/api/v1/connectors', payload: { name: `conn-${uniq()}`, site: 'matrix' } }) },
  { route: 'POST /api/v1/connectors/:id/token', expect: s(200, 403, 403, 403, 403, 401), request: async (f) => ({ url: `/api/v1/connectors/${(await newConnector(f)).connector.id}/token` }) },
  { route: 'POST /api/v1/connectors/:id/revoke', expect: s(200, 403, 403, 403, 403, 401), request: async (f) => ({ url: `/api/v1/connectors/${(await newConnector(f)).connector.id}/revoke` }) },
  { route: 'GET /connector/v1/ca', expect: PUBLIC_200, request: fixedUrl('/connector/v1/ca') },
  { route: 'POST /connector/v1/register', expect: PUBLIC_200, request: async (f) => ({ url: '/connector/v1/register', payload: { token: (await newConnector(f)).token, csr: csrPem('matrix-connector') } }) },
  {
    route: 'POST /api/v1/cas/connector', expect: s(201, 403, 403, 403, 403, 401),
    request: async (f) => ({ url: '/api/v1/cas/connector', payload: { name: `via-${uniq()}`, connector: (await newConnector(f)).connector.id, servers: [{ connection: f.connection, priority: 1 }] } }),
  },
  {
    route: 'PUT /api/v1/cas/:id/connectors', expect: s(200, 403, 403, 403, 403, 401),
    request: async (f) => {
      const first = (await newConnector(f)).connector.id;
      const created = await f.env.app.inject({ method: 'POST', url: '/api/v1/cas/connector', headers: bearer(f.env.adminToken), payload: { name: `pool-${uniq()}`, connector: first, servers: [{ connection: f.connection, priority: 1 }] } });
      return { url: `/api/v1/cas/${created.json<{ id: string }>().id}/connectors`, payload: { connectors: [first, (await newConnector(f)).connector.id] } };
    },
  },
  { route: 'POST /api/v1/cas/adcs', expect: s(201, 403, 403, 403, 403, 401), request: (f) => ({ url: '/api/v1/cas/adcs', payload: { name: `adcs-${uniq()}`, servers: [{ connection: f.connection, priority: 1 }] } }) },
  { route: 'POST /api/v1/cas/:id/subordinates', expect: s(201, 403, 403, 403, 403, 401), request: (f) => ({ url: `/api/v1/cas/${f.simCaId}/subordinates`, payload: { name: `sub-${uniq()}`, subject: `CN=Matrix Sub ${uniq()}`, keyAlgorithm: 'EC-P256' } }) },
  { route: 'GET /api/v1/cas/:id/servers', expect: READERS_200, request: (f) => ({ url: `/api/v1/cas/${f.adcsCaId}/servers` }) },
  { route: 'PUT /api/v1/cas/:id/servers', expect: s(200, 403, 403, 403, 403, 401), request: (f) => ({ url: `/api/v1/cas/${f.adcsCaId}/servers`, payload: { servers: [{ connection: f.connection, priority: 1 }] } }) },
  { route: 'GET /api/v1/cas/:id/templates', expect: READERS_200, request: (f) => ({ url: `/api/v1/cas/${f.adcsCaId}/templates` }) },
  { route: 'POST /api/v1/orders/:id/fetch', expect: s(200, 200, 200, 404, 403, 401), request: async (f) => ({ url: `/api/v1/orders/${await pendingAdcsOrder(f)}/fetch` }) },
  { route: 'DELETE /api/v1/orders/:id', expect: s(200, 200, 200, 404, 403, 401), request: async (f) => ({ url: `/api/v1/orders/${await pendingAdcsOrder(f)}` }) },

  // enrollment settings and ACME EAB keys (application-scoped admin API)
  { route: 'GET /api/v1/applications/:appId/enrollment/:profile', expect: s(200, 200, 200, 404, 200, 401), request: (f) => ({ url: `/api/v1/applications/${f.appA}/enrollment/${ENROLL_PROFILE}` }) },
  { route: 'PUT /api/v1/applications/:appId/enrollment/:profile', expect: s(200, 200, 403, 404, 403, 401), request: (f) => ({ url: `/api/v1/applications/${f.appA}/enrollment/${ENROLL_PROFILE}`, payload: ENROLL_SETTINGS }) },
  { route: 'POST /api/v1/applications/:appId/enrollment/:profile/scep/challenges', expect: s(201, 201, 201, 404, 403, 401), request: (f) => ({ url: `/api/v1/applications/${f.appA}/enrollment/${ENROLL_PROFILE}/scep/challenges` }) },
  { route: 'POST /api/v1/applications/:appId/enrollment/:profile/scep/ra/rotate', expect: s(200, 200, 403, 404, 403, 401), request: (f) => ({ url: `/api/v1/applications/${f.appA}/enrollment/${ENROLL_PROFILE}/scep/ra/rotate`, payload: { graceSeconds: 60 } }) },
  { route: 'POST /api/v1/applications/:appId/acme/eab-keys', expect: s(201, 201, 403, 404, 403, 401), request: (f) => ({ url: `/api/v1/applications/${f.appA}/acme/eab-keys`, payload: {} }) },
  { route: 'GET /api/v1/applications/:appId/acme/eab-keys', expect: s(200, 200, 403, 404, 403, 401), request: (f) => ({ url: `/api/v1/applications/${f.appA}/acme/eab-keys` }) },
  { route: 'PUT /api/v1/applications/:appId/acme/settings', expect: s(200, 200, 403, 404, 403, 401), request: (f) => ({ url: `/api/v1/applications/${f.appA}/acme/settings`, payload: { eabRequired: false } }) },

  // Enrollment protocols authenticate by their own means (JWS, challenge password): a Certbridge
  // token grants nothing there, so every caller gets the same answer.
  { route: 'GET /acme/:slug/directory', expect: PUBLIC_200, request: fixedUrl(`/acme/${ENROLL_PROFILE}/directory`) },
  { route: 'GET /acme/:slug/renewal-info/:certId', expect: PUBLIC_200, request: (f) => ({ url: `/acme/${ENROLL_PROFILE}/renewal-info/${f.ariCertId}` }) },
  { route: 'GET /acme/:slug/new-nonce', expect: s(204, 204, 204, 204, 204, 204), request: fixedUrl(`/acme/${ENROLL_PROFILE}/new-nonce`) },
  ...ACME_POSTS.map((path): Row => ({
    route: `POST /acme/:slug/${path}`, expect: s(400, 400, 400, 400, 400, 400), problem: 'urn:ietf:params:acme:error:malformed',
    request: () => ({ url: `/acme/${ENROLL_PROFILE}/${path.replace(/:id/, randomUUID())}`, payload: {}, headers: { 'content-type': 'application/jose+json' } }),
  })),
  { route: 'GET /scep/:slug', expect: PUBLIC_200, request: fixedUrl(`/scep/${ENROLL_PROFILE}?operation=GetCACaps`) },
  { route: 'POST /scep/:slug', expect: PUBLIC_200, request: () => ({ url: `/scep/${ENROLL_PROFILE}?operation=GetCACaps`, payload: Buffer.alloc(0), headers: { 'content-type': 'application/octet-stream' } }) },
  { route: 'GET /scep/:slug/pkiclient.exe', expect: PUBLIC_200, request: fixedUrl(`/scep/${ENROLL_PROFILE}/pkiclient.exe?operation=GetCACert`) },
  { route: 'POST /scep/:slug/pkiclient.exe', expect: PUBLIC_200, request: () => ({ url: `/scep/${ENROLL_PROFILE}/pkiclient.exe?operation=GetCACaps`, payload: Buffer.alloc(0), headers: { 'content-type': 'application/octet-stream' } }) },

  // audit
  { route: 'GET /api/v1/audit', expect: s(200, 403, 403, 403, 200, 401), request: fixedUrl('/api/v1/audit') },
  { route: 'GET /api/v1/audit/verify', expect: s(200, 403, 403, 403, 200, 401), request: fixedUrl('/api/v1/audit/verify') },
  // Key Vault syncs (issue 8): readers see them, admins and operators manage them
  { route: 'GET /api/v1/syncs', expect: READERS_200, request: fixedUrl('/api/v1/syncs') },
  { route: 'GET /api/v1/syncs/:id', expect: READERS_200, request: async (f) => ({ url: `/api/v1/syncs/${await newSync(f)}` }) },
  { route: 'POST /api/v1/syncs', expect: s(201, 201, 403, 403, 403, 401), request: async (f) => ({ url: '/api/v1/syncs', payload: await syncBody(f) }) },
  { route: 'PATCH /api/v1/syncs/:id', expect: s(200, 200, 403, 403, 403, 401), request: async (f) => ({ url: `/api/v1/syncs/${await newSync(f)}`, payload: { onRevocation: 'delete' } }) },
  { route: 'DELETE /api/v1/syncs/:id', expect: s(204, 204, 403, 403, 403, 401), request: async (f) => ({ url: `/api/v1/syncs/${await newSync(f)}` }) },
  { route: 'POST /api/v1/syncs/:id/run', expect: s(202, 202, 403, 403, 403, 401), request: async (f) => ({ url: `/api/v1/syncs/${await newSync(f)}/run` }) },
  { route: 'GET /api/v1/syncs/:id/certificates', expect: READERS_200, request: async (f) => ({ url: `/api/v1/syncs/${await newSync(f)}/certificates` }) },
];

const CASES = ROWS.flatMap((row) => CALLERS.map((caller) => {
  const status = row.expect[caller];
  const name = `${status < 300 ? 'ok' : 'fail'}/${caller} ${row.route}${row.variant ? ` (${row.variant})` : ''} → ${status}`;
  return { name, row, caller, status };
}));

describe.each(ENGINES)('RBAC matrix on %s', (engine) => {
  let f: Fixtures;
  let sim: AdcsSim | undefined;
  beforeAll(async () => {
    const azure = await startAzureWorld();
    const env = await createTestEnv(engine, { azure: { publicUrl: PUBLIC_URL, oauthApps: azure.oauthApps } });
    const admin = (await env.core.auth.authenticateToken(env.adminToken))!;
    const identity = async (username: string, role: 'admin' | 'operator' | 'requester' | 'auditor'): Promise<Identity> =>
      ({ username, ...(await userWithToken(env, username, role)) });
    const users = {
      admin: await identity('m-admin', 'admin'), operator: await identity('m-operator', 'operator'), member: await identity('m-member', 'requester'),
      outsider: await identity('m-outsider', 'requester'), auditor: await identity('m-auditor', 'auditor'),
    };
    const spare = await identity('m-spare', 'requester');
    await env.core.catalog.createApplication(admin, { name: 'matrix-a', profiles: ['default-tls'] });
    await env.core.catalog.createApplication(admin, { name: 'matrix-b', profiles: ['default-tls'] });
    await env.core.catalog.setMember(admin, 'matrix-a', { user: users.member.id, role: 'requester' });
    const ca = (await env.core.repos.cas.find('Certbridge Intermediate CA'))!;
    await env.core.catalog.createPolicy(admin, { name: 'matrix-policy', rules: {} });
    await env.core.catalog.createProfile(admin, { slug: 'matrix-profile', ca: ca.id, policy: 'matrix-policy' });
    f = {
      env, admin, users, spare, appA: 'matrix-a', appB: 'matrix-b', caId: ca.id, caName: ca.name, policy: 'matrix-policy', profile: 'matrix-profile',
      certA: '', certB: '', keygenCertA: '', memberKeygenCertA: '', orderA: '', orderB: '', connection: '', adcsCaId: '', simCaId: '', ariCertId: '', azure,
    };
    const a = await issued(f, f.appA, users.admin.token);
    const b = await issued(f, f.appB, users.admin.token);
    const keygen = async (token: string) => (await env.app.inject({
      method: 'POST', url: `/api/v1/applications/${f.appA}/certificates`, headers: bearer(token),
      payload: { profile: 'default-tls', subject: { commonName: 'keygen.example.test' }, sans: ['dns:keygen.example.test'] },
    })).json<{ certificate: { id: string } }>().certificate.id;
    await env.core.catalog.createProfile(admin, { slug: ENROLL_PROFILE, ca: ca.id, policy: 'matrix-policy' });
    await env.core.catalog.updateApplication(admin, 'matrix-a', { profiles: ['default-tls', ENROLL_PROFILE] });
    const settings = await env.app.inject({ method: 'PUT', url: `/api/v1/applications/matrix-a/enrollment/${ENROLL_PROFILE}`, headers: bearer(env.adminToken), payload: ENROLL_SETTINGS });
    if (settings.statusCode !== 200) throw new Error(`enrollment settings: ${settings.statusCode} ${settings.body}`);
    const connection = await env.core.connections.create(admin, { type: 'adcs', ...connectionBody('matrix-conn') });
    const adcsCa = await env.core.adcs.cas.create(admin, { name: 'matrix-adcs', servers: [{ connection: connection.id, priority: 1 }] });
    const enrolled = await env.app.inject({ method: 'POST', url: '/api/v1/applications/matrix-a/certificates', headers: bearer(env.adminToken), payload: { profile: ENROLL_PROFILE, csr: csrPem('ari.example.test') } });
    const enrolledInfo = parseCertificate(enrolled.json<{ certificate: { certificate: string } }>().certificate.certificate);
    const ariCertId = `${Buffer.from(enrolledInfo.authorityKeyIdentifier!, 'hex').toString('base64url')}.${Buffer.from(enrolledInfo.serialHex, 'hex').toString('base64url')}`;
    sim = await startSim({ templates: [...(simConfig().templates ?? []), { cn: 'SubCA', displayName: 'Subordinate Certification Authority', enroll: ['alice'], isCa: true }] });
    const simConnection = await env.core.connections.create(admin, { type: 'adcs', name: 'matrix-sim', url: sim.url, domain: 'CORP', username: 'alice', password: SIM_PASSWORD, auth: 'basic', caPem: sim.tlsCaPem, timeoutMs: 5000 });
    const simCa = await env.core.adcs.cas.create(admin, { name: 'matrix-sim-ca', servers: [{ connection: simConnection.id, priority: 1 }] });
    Object.assign(f, {
      connection: connection.id, adcsCaId: adcsCa.id, simCaId: simCa.id, ariCertId,
      certA: a.certificateId, orderA: a.orderId, certB: b.certificateId, orderB: b.orderId,
      keygenCertA: await keygen(users.admin.token), memberKeygenCertA: await keygen(users.member.token),
    });
  });
  afterAll(async () => {
    await f?.env.core.adcs.runtime.close();
    await f?.env.close();
    await sim?.stop();
    await f?.azure.close();
  });

  it('ok/every route registered through route() has a matrix row, and every row names a registered route', () => {
    const registered = new Set(documentedRoutes.map((r) => `${r.method} ${r.url}`));
    const covered = new Set(ROWS.map((r) => r.route));
    expect({ missing: [...registered].filter((r) => !covered.has(r)), stale: [...covered].filter((r) => !registered.has(r)) }).toEqual({ missing: [], stale: [] });
  });

  it.each(CASES)('$name', async ({ row, caller, status }) => {
    const req = await row.request(f, caller);
    const method = row.route.split(' ')[0] as InjectOptions['method'];
    const res = await f.env.app.inject({
      method, url: req.url,
      headers: { ...(caller === 'anonymous' ? {} : bearer(f.users[caller].token)), ...req.headers },
      ...(req.payload !== undefined ? { payload: req.payload } : {}),
    });
    const body = res.statusCode >= 400 ? res.json<{ error?: { code: string }; type?: string }>() : undefined;
    const code = row.problem ? body?.type : body?.error?.code;
    expect({ status: res.statusCode, code }).toEqual({ status, code: row.problem ?? CODE_BY_STATUS[status] });
  });
});
