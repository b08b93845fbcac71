import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import {
  buildCsr, describePublicKey, exportPrivateKeyPkcs8Der, formatDn, generateKeyPair, parseCertificate, parseCsr, PkiError,
  verifyCsrSignature, type DistinguishedName, type ParsedCsr, type KeyAlgorithm, type San,
} from '@certbridge/pki';
import { appendAudit } from '../audit/audit-log.ts';
import type { Principal } from '../auth/principal.ts';
import { backendFor, type BackendDeps } from '../ca-backends/registry.ts';
import type { IssueRequest, IssueResult, RecordOrder } from '../ca-backends/types.ts';
import type { Clock } from '../clock.ts';
import type { Sealer } from '../crypto/sealer.ts';
import type { ApplicationRow, CaRow, CertificateRow, Database, NewOrder, OrderRow, PolicyRow, ProfileRow } from '../db/schema.ts';
import { AppError, notFound } from '../errors.ts';
import type { CasRepository } from '../repositories/cas-repository.ts';
import type { CatalogRepository } from '../repositories/catalog-repository.ts';
import type { CertificatesRepository } from '../repositories/certificates-repository.ts';
import type { OrdersRepository } from '../repositories/orders-repository.ts';
import { parsePolicyRules, parseProfileDefaults } from './catalog-service.ts';
import { ekuOid, evaluatePolicy } from './policy.ts';
import { createIssuanceWriter } from './issuance-writer.ts';
import { recordIssuedOrder } from './issued-order.ts';
import { searchText } from './request-facts.ts';

export type Protocol = 'api' | 'cli' | 'acme' | 'est' | 'scep';

export interface IssueContext {
  actor: Principal | null;
  protocol: Protocol;
  application: ApplicationRow;
  profile: ProfileRow;
  /**
   * The caller has its own waiting state and polls the CA itself (ACME: order `processing`, and
   * clients such as certbot give up on a request held open for 45 s), so a backend must answer
   * `pending` at once instead of re-asking a pending CA for a while.
   */
  answerPendingAtOnce?: boolean;
  /**
   * The catalogue counter under which the caller read `application` and `profile` during this
   * request (CatalogCache.version): the core's own catalogue lookups use it instead of checking
   * the counter again, so the request sees one catalogue throughout and pays one check.
   */
  catalogVersion?: string;
  /**
   * The id the order will have, chosen by the caller so that it can link its own record to the
   * order before the CA is asked (ACME finalize, migration 0020); a fresh UUID when unset.
   */
  orderId?: string;
}

export type IssueInput =
  | { kind: 'csr'; csr: string | Uint8Array; validityDays?: number; renewedFromId?: string }
  | { kind: 'keygen'; subject: DistinguishedName; sans: San[]; keyAlgorithm?: KeyAlgorithm; validityDays?: number; renewedFromId?: string; pkcs12Password?: string };

export type IssueOutcome =
  | { status: 'issued'; order: OrderRow; certificate: CertificateRow }
  | { status: 'pending'; order: OrderRow; retryAfterSeconds: number }
  | { status: 'denied'; order: OrderRow };

const DAY_MS = 86_400_000;
/** The context binding a server-generated key to its order (crypto/sealer.ts). */
export const serverKeyContext = (orderId: string): string => `server-key:${orderId}`;

export interface IssuanceDeps {
  db: Kysely<Database>;
  cas: CasRepository;
  catalog: CatalogRepository;
  orders: OrdersRepository;
  certificates: CertificatesRepository;
  sealer: Sealer;
  backends: BackendDeps;
  clock: Clock;
}

/**
 * The one issuance path every enrollment protocol goes through: decode and verify the request,
 * apply profile defaults, check the policy (all violations at once), record an order BEFORE the
 * CA is asked, ask the CA backend, then store the outcome with its audit row in one transaction.
 */
export function createIssuanceService(deps: IssuanceDeps) {
  const { db, cas, catalog, orders, certificates, sealer, clock } = deps;
  const writer = createIssuanceWriter(db, clock);

  async function loadCa(profile: ProfileRow, catalogVersion: string | undefined): Promise<CaRow> {
    const ca = await cas.find(profile.ca_id, catalogVersion);
    if (!ca) throw notFound('CA', profile.ca_id);
    if (ca.status !== 'active') throw new AppError('CA_UNAVAILABLE', `CA ${ca.name} is disabled`);
    return ca;
  }

  async function loadPolicy(profile: ProfileRow, catalogVersion: string | undefined): Promise<PolicyRow> {
    const policy = await catalog.findPolicy(profile.policy_id, catalogVersion);
    if (!policy) throw notFound('policy', profile.policy_id);
    return policy;
  }

  function decodeCsr(csr: string | Uint8Array) {
    let parsed;
    let signatureOk: boolean;
    try {
      parsed = parseCsr(csr);
      signatureOk = verifyCsrSignature(parsed);
    } catch (err) {
      // MALFORMED: not a CSR; UNSUPPORTED: a signature algorithm this server cannot check.
      if (err instanceof PkiError) throw new AppError('MALFORMED_CSR', `the CSR cannot be read: ${err.message}`, undefined, { cause: err });
      throw err;
    }
    if (!signatureOk) throw new AppError('BAD_CSR_SIGNATURE', 'the CSR signature does not verify (the request was altered or signed with another key)');
    return parsed;
  }

  async function finalize(order: OrderRow, ctx: Omit<IssueContext, 'application' | 'profile'> & { applicationId: string; profileId: string }, result: IssueResult, renewedFromId: string | null = null): Promise<IssueOutcome> {
    const now = clock.now();
    if (result.status === 'issued') {
      const info = parseCertificate(result.certificateDer);
      const certificate: CertificateRow = {
        id: randomUUID(), ca_id: order.ca_id, order_id: order.id, application_id: ctx.applicationId, profile_id: ctx.profileId,
        requester_id: order.requester_id, serial_hex: info.serialHex, subject: info.subjectText, sans: info.sans,
        search_text: searchText(info.subjectText, info.sans), key_algorithm: info.publicKey.algorithm, fingerprint_sha256: info.fingerprintSha256,
        not_before: info.notBefore, not_after: info.notAfter, status: 'active', der: info.der, revoked_at: null, revocation_reason: null,
        chain: result.chainDer.map((c) => Buffer.from(c).toString('base64')),
        private_key_sealed: order.server_key_sealed, renewed_from_id: renewedFromId, ca_revocation_pending: false,
        // Milliseconds, as the keyset cursor carries them (Postgres would keep microseconds).
        created_at: now,
      };
      // Certificate, order and audit row in one statement: one round trip and one commit (issued-order.ts).
      const updated = await recordIssuedOrder(db, clock, {
        order, certificate,
        patch: {
          status: 'issued', certificate_id: certificate.id, server_key_sealed: null, attempts: order.attempts + 1, next_poll_at: null,
          // A waiting text ("Taken Under Submission", "waiting for connector …") must not outlive the wait.
          disposition: result.disposition ?? (order.disposition ? 'Issued' : null),
          ca_request_id: result.requestId ?? order.ca_request_id, ca_server: result.server ?? order.ca_server, warning: result.warning ?? order.warning ?? null,
        },
        audit: { actor: ctx.actor, action: 'certificate.issue', resourceType: 'certificate', resourceId: certificate.id, outcome: 'success', details: { orderId: order.id, serial: info.serialHex, subject: info.subjectText, protocol: ctx.protocol } },
      });
      return { status: 'issued' as const, order: updated, certificate };
    }
    if (result.status === 'pending') {
      const updated = await db.transaction().execute(async (trx) => {
        const row = await orders.update(trx, order.id, {
          ca_request_id: result.ticket.requestId, ca_server: result.ticket.server ?? null, disposition: result.disposition ?? null,
          attempts: order.attempts + 1, next_poll_at: new Date(now.getTime() + result.retryAfterSeconds * 1000),
          ...(result.warning ? { warning: result.warning } : {}),
        });
        await appendAudit(trx, { actor: ctx.actor, action: 'order.pending', resourceType: 'order', resourceId: order.id, outcome: 'success', details: { requestId: result.ticket.requestId } }, clock);
        return row;
      });
      return { status: 'pending', order: updated, retryAfterSeconds: result.retryAfterSeconds };
    }
    const denied = await db.transaction().execute(async (trx) => {
      const row = await orders.update(trx, order.id, {
        status: 'denied', disposition: result.disposition ?? result.reason, hresult: result.hresult ?? null, server_key_sealed: null, error: JSON.stringify({ message: result.reason }),
        ca_request_id: result.requestId ?? order.ca_request_id, attempts: order.attempts + 1, next_poll_at: null,
        ...(result.warning ? { warning: result.warning } : {}),
      });
      await appendAudit(trx, { actor: ctx.actor, action: 'order.denied', resourceType: 'order', resourceId: order.id, outcome: 'failure', details: { reason: result.reason, hresult: result.hresult } }, clock);
      return row;
    });
    return { status: 'denied', order: denied };
  }

  /** The order (already in its final state), its certificate and the audit row, through the group-commit writer. */
  async function issuedLocally(
    newOrder: NewOrder & { id: string; created_at: Date }, ctx: Omit<IssueContext, 'application' | 'profile'> & { applicationId: string; profileId: string },
    result: Extract<IssueResult, { status: 'issued' }>, renewedFromId: string | null,
  ): Promise<IssueOutcome> {
    const info = parseCertificate(result.certificateDer);
    const now = newOrder.created_at;
    const certificate: CertificateRow = {
      id: randomUUID(), ca_id: newOrder.ca_id, order_id: newOrder.id, application_id: ctx.applicationId, profile_id: ctx.profileId,
      requester_id: newOrder.requester_id ?? null, serial_hex: info.serialHex, subject: info.subjectText, sans: info.sans,
      search_text: searchText(info.subjectText, info.sans), key_algorithm: info.publicKey.algorithm, fingerprint_sha256: info.fingerprintSha256,
      not_before: info.notBefore, not_after: info.notAfter, status: 'active', revoked_at: null, revocation_reason: null, der: info.der,
      chain: result.chainDer.map((c) => Buffer.from(c).toString('base64')), private_key_sealed: newOrder.server_key_sealed ?? null,
      renewed_from_id: renewedFromId, ca_revocation_pending: false, created_at: now,
    };
    const order: OrderRow = {
      id: newOrder.id, application_id: newOrder.application_id, profile_id: newOrder.profile_id, ca_id: newOrder.ca_id,
      requester_id: newOrder.requester_id ?? null, protocol: newOrder.protocol, status: 'issued', csr_der: newOrder.csr_der ?? null,
      subject: newOrder.subject, sans: JSON.parse(newOrder.sans) as OrderRow['sans'], common_name: newOrder.common_name ?? null, adcs_domain: null,
      key_algorithm: newOrder.key_algorithm ?? null, server_key_sealed: null, ca_request_id: result.requestId ?? null, ca_server: result.server ?? null,
      template: newOrder.template ?? null, disposition: null, hresult: null, error: null, attempts: 1, next_poll_at: null,
      certificate_id: certificate.id, warning: result.warning ?? null, created_at: now, updated_at: now,
    };
    await writer.write({
      order, certificate,
      audit: { actor: ctx.actor, action: 'certificate.issue', resourceType: 'certificate', resourceId: certificate.id, outcome: 'success', details: { orderId: order.id, serial: info.serialHex, subject: info.subjectText, protocol: ctx.protocol } },
    });
    return { status: 'issued', order, certificate };
  }

  async function markFailed(order: OrderRow, actor: Principal | null, err: unknown): Promise<never> {
    const message = err instanceof Error ? err.message : String(err);
    await db.transaction().execute(async (trx) => {
      await orders.update(trx, order.id, { status: 'failed', error: JSON.stringify({ message }), server_key_sealed: null, next_poll_at: null });
      await appendAudit(trx, { actor, action: 'order.failed', resourceType: 'order', resourceId: order.id, outcome: 'failure', details: { message } }, clock);
    });
    if (err instanceof AppError) throw err;
    throw new AppError('CA_UNAVAILABLE', `the CA could not be asked: ${message}`, { orderId: order.id }, { cause: err });
  }

  return {
    async issue(ctx: IssueContext, input: IssueInput): Promise<IssueOutcome> {
      const { application, profile, catalogVersion } = ctx;
      // The three lookups share one catalogue check, none when the caller passed its own (repositories/catalog-cache.ts); their errors keep this order.
      const [linked, caLookup, policyLookup] = await Promise.allSettled([
        catalog.hasApplicationProfile(application.id, profile.id, catalogVersion), loadCa(profile, catalogVersion), loadPolicy(profile, catalogVersion),
      ]);
      if (linked.status === 'rejected') throw linked.reason;
      if (!linked.value) {
        throw new AppError('VALIDATION_FAILED', `profile ${profile.slug} is not attached to application ${application.name}`);
      }
      if (profile.broken_reason) throw new AppError('VALIDATION_FAILED', `profile ${profile.slug} is broken: ${profile.broken_reason}`, { profile: profile.slug, brokenReason: profile.broken_reason });
      if (caLookup.status === 'rejected') throw caLookup.reason;
      if (policyLookup.status === 'rejected') throw policyLookup.reason;
      const [ca, policy] = [caLookup.value, policyLookup.value];
      const defaults = parseProfileDefaults(profile.defaults);
      const rules = parsePolicyRules(policy.rules);

      let subject: DistinguishedName, sans: San[], spkiDer: Uint8Array, csrDer: Uint8Array | null = null;
      let keyPair: ReturnType<typeof generateKeyPair> | null = null;
      // The CSR's key as parseCsr described it, valid once its signature verified: describing it
      // again would import the key a second time (the costliest step of an EC issuance after verify).
      let csrKey: ParsedCsr['publicKey'] | null = null;
      let remoteKeygen: { keyAlgorithm: KeyAlgorithm; pkcs12Password: string } | null = null;
      if (input.kind === 'csr') {
        const csr = decodeCsr(input.csr);
        ({ subject, sans, spkiDer } = csr);
        csrDer = csr.der;
        csrKey = csr.publicKey;
      } else {
        ({ subject, sans } = input);
        // A CA that generates keys itself (on-prem connector): no key ever exists on this server.
        if (backendFor(ca, deps.backends).issueWithKeygen) {
          if (!input.pkcs12Password || input.pkcs12Password.length < 8) throw new AppError('VALIDATION_FAILED', `CA ${ca.name} generates keys on its on-prem connector: send pkcs12Password (at least 8 characters), the password the PKCS#12 is encrypted under`, { field: 'pkcs12Password' });
          remoteKeygen = { keyAlgorithm: input.keyAlgorithm ?? defaults.keyAlgorithm, pkcs12Password: input.pkcs12Password };
        } else keyPair = generateKeyPair(input.keyAlgorithm ?? defaults.keyAlgorithm);
        spkiDer = keyPair ? new Uint8Array(keyPair.publicKey.export({ type: 'spki', format: 'der' })) : new Uint8Array(0);
      }
      const key = remoteKeygen
        ? { algorithm: remoteKeygen.keyAlgorithm, family: remoteKeygen.keyAlgorithm.startsWith('EC') ? 'EC' : 'RSA', bits: Number(remoteKeygen.keyAlgorithm.replace(/^\D+/, '')) }
        : csrKey ?? describePublicKey(spkiDer);
      const validityDays = input.validityDays ?? Math.min(defaults.validityDays, rules.maxValidityDays);
      const violations = evaluatePolicy(rules, {
        subject, sans, keyAlgorithm: key.algorithm, keyDescription: key.algorithm ?? `${key.family}-${key.bits}`,
        keyUsages: defaults.keyUsages, extendedKeyUsages: defaults.extendedKeyUsages, validityDays,
      });
      if (violations.length > 0) {
        throw new AppError('POLICY_VIOLATION', `the request breaks policy ${policy.name} (${violations.length} problem${violations.length > 1 ? 's' : ''})`, { violations });
      }

      const now = clock.now();
      const orderId = ctx.orderId ?? randomUUID();
      const newOrder = {
        id: orderId, application_id: application.id, profile_id: profile.id, ca_id: ca.id, requester_id: ctx.actor?.userId ?? null,
        protocol: ctx.protocol, status: 'pending' as const, csr_der: csrDer, subject: formatDn(subject), sans: JSON.stringify(sans),
        common_name: subject.find((a) => a.oid === '2.5.4.3')?.value ?? null,
        key_algorithm: key.algorithm, template: profile.template, ca_request_id: null, ca_server: null, disposition: null, hresult: null,
        error: null, next_poll_at: null, certificate_id: null, created_at: now,
        server_key_sealed: keyPair ? sealer.seal(exportPrivateKeyPkcs8Der(keyPair.privateKey), serverKeyContext(orderId)) : null,
      };
      const request: IssueRequest = {
        orderId, csrDer, spkiDer, subject, sans,
        notBefore: new Date(now.getTime() - 60_000), // one minute of grace for relying parties' clock skew
        notAfter: new Date(now.getTime() + validityDays * DAY_MS),
        keyUsages: defaults.keyUsages, extendedKeyUsages: defaults.extendedKeyUsages.map(ekuOid),
        ...(profile.template ? { template: profile.template, validityRequested: input.validityDays !== undefined } : {}),
        ...(ctx.answerPendingAtOnce ? { answerPendingAtOnce: true } : {}),
      };
      // A CA that takes PKCS#10 (ADCS) gets one signed with the server-generated key.
      if (!request.csrDer && keyPair && profile.template) request.csrDer = buildCsr({ subject, sans, privateKey: keyPair.privateKey, publicKey: keyPair.publicKey });
      const backend = backendFor(ca, deps.backends);
      const finalizeCtx = { actor: ctx.actor, protocol: ctx.protocol, applicationId: application.id, profileId: profile.id };
      if (backend.local) {
        // Nothing outside this process learns of a request to a local CA, so the order is written
        // together with its outcome (group commit): a crash before that commit leaves no trace and
        // hands out nothing, exactly like a crash before the order was recorded.
        let result: IssueResult;
        try {
          result = await (input.renewedFromId ? backend.renew(request) : backend.issue(request));
        } catch (err) {
          return markFailed(await orders.insert(newOrder), ctx.actor, err);
        }
        if (result.status === 'issued') return issuedLocally(newOrder, finalizeCtx, result, input.renewedFromId ?? null);
        return finalize(await orders.insert(newOrder), finalizeCtx, result);
      }
      if (backend.issueWhileRecording && !remoteKeygen && !input.renewedFromId) {
        // The backend writes the order through `record` and gets ready (server, rate-cap token)
        // during that write or inside it; it asks the CA after the write (CaBackend.issueWhileRecording).
        let recording: Promise<OrderRow> | undefined;
        const record: RecordOrder = (alongside) => {
          if (recording) throw new Error('an order is recorded once');
          const written = orders.recordBeforeRemoteCa(newOrder, alongside);
          recording = written.then((w) => w.order);
          const answer = written.then((w) => ({ alongsideRows: w.alongsideRows }));
          // Handled here at once: the backend may await them only after its own first round trip, or not at all when it fails first.
          recording.catch(() => undefined);
          answer.catch(() => undefined);
          return answer;
        };
        // A backend that failed before recording (e.g. no template) still leaves a failed order behind.
        const recorded = () => recording ?? orders.insert(newOrder);
        let result: IssueResult;
        try {
          result = await backend.issueWhileRecording(request, record);
        } catch (err) {
          // An order that could not be written fails the request with the database's error, as before.
          return markFailed(await recorded(), ctx.actor, err);
        }
        return finalize(await recorded(), finalizeCtx, result);
      }
      const { order } = await orders.recordBeforeRemoteCa(newOrder);
      let result: IssueResult;
      try {
        result = await (remoteKeygen && backend.issueWithKeygen ? backend.issueWithKeygen({ ...request, ...remoteKeygen }) : input.renewedFromId ? backend.renew(request) : backend.issue(request));
      } catch (err) {
        return markFailed(order, ctx.actor, err);
      }
      return finalize(order, finalizeCtx, result, input.renewedFromId ?? null);
    },

    /** Asks the CA again about a pending order (background polling and explicit refresh). */
    async poll(orderId: string, actor: Principal | null): Promise<IssueOutcome> {
      const order = await orders.find(orderId);
      if (!order) throw notFound('order', orderId);
      if (order.status !== 'pending' || !order.ca_request_id) throw new AppError('CONFLICT', `order ${orderId} is ${order.status}, not waiting for the CA`);
      const ca = await cas.find(order.ca_id);
      if (!ca) throw notFound('CA', order.ca_id);
      const result = await backendFor(ca, deps.backends).poll({ requestId: order.ca_request_id, ...(order.ca_server ? { server: order.ca_server } : {}) });
      return finalize(order, { actor, protocol: order.protocol as Protocol, applicationId: order.application_id, profileId: order.profile_id }, result);
    },

    /** Orders stranded by a crash between "order recorded" and "CA asked" become visibly failed. */
    async failStrandedOrders(olderThanMs: number): Promise<number> {
      const stranded = await orders.stranded(new Date(clock.now().getTime() - olderThanMs));
      for (const order of stranded) {
        await db.transaction().execute(async (trx) => {
          await orders.update(trx, order.id, { status: 'failed', error: JSON.stringify({ message: 'the server stopped before the CA answered; submit again' }), server_key_sealed: null });
          await appendAudit(trx, { actor: null, action: 'order.failed', resourceType: 'order', resourceId: order.id, outcome: 'failure', details: { reason: 'stranded' } }, clock);
        });
      }
      return stranded.length;
    },
  };
}

export type IssuanceService = ReturnType<typeof createIssuanceService>;
