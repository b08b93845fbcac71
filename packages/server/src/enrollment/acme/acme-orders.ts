import { randomBytes, randomUUID } from 'node:crypto';
import { parseCsr, pemEncode, PkiError } from '@certbridge/pki';
import type { Clock } from '../../clock.ts';
import type { Kysely } from 'kysely';
import { appendAudit } from '../../audit/audit-log.ts';
import type { PendingOrders } from '../../ca-backends/adcs/pending-orders.ts';
import type { CertificateRow, Database, OrderRow } from '../../db/schema.ts';
import { AppError } from '../../errors.ts';
import type { IssuanceService, IssueOutcome } from '../../issuance/issuance-service.ts';
import type { CertificatesRepository } from '../../repositories/certificates-repository.ts';
import type { OrdersRepository } from '../../repositories/orders-repository.ts';
import type { CatalogRepository } from '../../repositories/catalog-repository.ts';
import type { AcmeRepository } from './acme-repository.ts';
import { acmeDb, type AccountRow, type AcmeIdentifier, type AcmeOrderRow, type AuthorizationRow } from './acme-tables.ts';
import type { AcmeDirectory } from './acme-views.ts';
import { challengeTypesFor, csrMatchesOrder } from './identifiers.ts';
import type { OrderScreening } from './order-screening.ts';
import { AcmeProblem, toAcmeProblem } from './problems.ts';

const DAY_MS = 86_400_000;
const ORDER_LIFETIME_MS = 7 * DAY_MS;

export interface RateLimits {
  /** New orders per account per hour. */
  ordersPerAccountPerHour: number;
  /** New orders naming one identifier per hour, across the accounts of a directory. */
  ordersPerIdentifierPerHour: number;
}
/** An order as finalize leaves it, with its authorizations' ids (for rendering) and the Retry-After of a pending CA request. */
export interface FinalizedOrder { order: AcmeOrderRow; authzIds: string[]; retryAfterSeconds?: number }

/** A well-formed UUID (anything else would make the database refuse the whole statement). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const DEFAULT_RATE_LIMITS: RateLimits = { ordersPerAccountPerHour: 300, ordersPerIdentifierPerHour: 50 };

/**
 * While a CA request waits for approval, a client's poll asks the CA at most this often (and the
 * answer's Retry-After says so). lego polls every half second and certbot every second whatever
 * Retry-After says, so this throttle is what keeps the CA from being asked on every poll.
 */
export const CA_CHECK_SECONDS = 5;
/** The interval grows with the wait (a tenth of it), up to a minute, so a long wait stays cheap. */
const CA_CHECK_MAX_SECONDS = 60;
/**
 * A `processing` order with no issuance order this long after its claim was stranded by a finalize
 * that died before the CA was asked (every CA path records its order before asking, or within
 * milliseconds after a local CA signed), so no certificate can come of it.
 */
export const STRANDED_FINALIZE_MS = 10 * 60_000;

/**
 * The ACME order a `processing` order becomes once its issuance order has left `pending`: what the
 * trigger of migration 0020 writes in the same transaction as the issuance order's change, computed
 * in memory so that finalize and a client's poll can answer without reading it back.
 */
export function followIssuance(order: AcmeOrderRow, issuance: Pick<OrderRow, 'status' | 'certificate_id' | 'disposition' | 'error'>): AcmeOrderRow {
  if (issuance.status === 'pending') return order;
  if (issuance.status === 'issued') return { ...order, status: 'valid', certificate_id: issuance.certificate_id, error: null };
  const message = issuance.error?.['message'];
  const detail = issuance.status === 'denied'
    ? `the CA denied the request: ${issuance.disposition ?? 'no reason given'}`
    // A cancelled or failed order says why in its error; its disposition is the CA's last word ("Taken Under Submission").
    : `the CA did not issue: ${typeof message === 'string' ? message : issuance.disposition ?? issuance.status}`;
  return { ...order, status: 'invalid', error: new AcmeProblem('unauthorized', detail).toJSON() };
}

/** Orders, their authorizations and challenges, finalize through the issuance core (section 7.4). */
export function createAcmeOrders(deps: {
  db: Kysely<Database>; repo: AcmeRepository; issuance: IssuanceService; orders: OrdersRepository; certificates: CertificatesRepository; catalog: CatalogRepository;
  pending: Pick<PendingOrders, 'pollOne'>; screening: OrderScreening; clock: Clock; limits?: RateLimits; caCheckSeconds?: number;
}) {
  const { repo, clock } = deps;
  const limits = deps.limits ?? DEFAULT_RATE_LIMITS;
  const minCheckSeconds = deps.caCheckSeconds ?? CA_CHECK_SECONDS;
  const checkSeconds = (submitted: OrderRow) =>
    Math.min(CA_CHECK_MAX_SECONDS, Math.max(minCheckSeconds, Math.ceil((clock.now().getTime() - submitted.created_at.getTime()) / 10_000)));

  /**
   * Asks the CA about a pending request when this order's last check is older than the interval.
   * The conditional update lets exactly one of several concurrent polls (any instance) ask.
   */
  async function checkCa(order: AcmeOrderRow, submitted: OrderRow): Promise<OrderRow> {
    const now = clock.now();
    const cutoff = new Date(now.getTime() - checkSeconds(submitted) * 1000 + 100);
    const claimed = await repo.db.updateTable('acme_orders').set({ ca_checked_at: now }).where('id', '=', order.id)
      .where((eb) => eb.or([eb('ca_checked_at', 'is', null), eb('ca_checked_at', '<=', cutoff)])).returning('id').executeTakeFirst();
    if (!claimed) return submitted;
    try {
      return (await deps.pending.pollOne(submitted, null)).order;
    } catch (err) {
      // Another poller settled it first (CONFLICT): read what it found.
      if (err instanceof AppError && err.code === 'CONFLICT') return (await deps.orders.find(submitted.id)) ?? submitted;
      throw err;
    }
  }

  return {
    /**
     * The screening (EAB key, profile policy) first, then the rate limits and the insert in one
     * statement: an order over a limit is not created, and the refusal names the limit.
     */
    async newOrder(dir: AcmeDirectory, account: AccountRow, identifiers: AcmeIdentifier[]): Promise<{ order: AcmeOrderRow; authzIds: string[] }> {
      await deps.screening.screen(dir, account, identifiers);
      const now = clock.now();
      const expires = new Date(now.getTime() + ORDER_LIFETIME_MS);
      const orderId = randomUUID();
      const authorizations = identifiers.map((identifier) => {
        const wildcard = identifier.value.startsWith('*.');
        return { id: randomUUID(), identifier_type: identifier.type, identifier_value: wildcard ? identifier.value.slice(2) : identifier.value, wildcard };
      });
      const challenges = identifiers.flatMap((identifier, i) => challengeTypesFor(identifier).map((type) => ({
        id: randomUUID(), authorization_id: authorizations[i]!.id, type, token: randomBytes(32).toString('base64url'),
      })));
      const { order, counts } = await repo.insertOrderWithinLimits(
        { order: { id: orderId, account_id: account.id, identifiers: JSON.stringify(identifiers), expires_at: expires, created_at: now }, authorizations, challenges },
        { profileId: account.profile_id, since: new Date(now.getTime() - 3_600_000), values: authorizations.map((a) => a.identifier_value), accountLimit: limits.ordersPerAccountPerHour, identifierLimit: limits.ordersPerIdentifierPerHour },
      );
      if (order) return { order, authzIds: authorizations.map((a) => a.id) };
      if (counts.account >= limits.ordersPerAccountPerHour) {
        throw new AcmeProblem('rateLimited', `account ${account.id} created ${counts.account} orders in the last hour; the limit is ${limits.ordersPerAccountPerHour}`);
      }
      const over = counts.identifiers.findIndex((n) => n >= limits.ordersPerIdentifierPerHour);
      throw new AcmeProblem('rateLimited', `${identifiers[over]?.value} was ordered ${counts.identifiers[over]} times in the last hour; the limit is ${limits.ordersPerIdentifierPerHour}`);
    },

    /**
     * The order, after asking the issuance core about a pending CA request (ADCS approval). The
     * stored order already follows its issuance order (migration 0020); this one was read before.
     */
    async refresh(order: AcmeOrderRow): Promise<{ order: AcmeOrderRow; retryAfterSeconds?: number }> {
      if (order.status === 'pending' && order.expires_at <= clock.now()) return { order: await repo.updateOrder(repo.db, order.id, { status: 'invalid', error: JSON.stringify(new AcmeProblem('malformed', 'the order expired').toJSON()) }) };
      if (order.status !== 'processing' || !order.issuance_order_id) return { order };
      let submitted = await deps.orders.find(order.issuance_order_id);
      if (!submitted) {
        // Finalize is still on its way to the CA, or died before asking it (then nothing will come).
        if (clock.now().getTime() - order.updated_at.getTime() < STRANDED_FINALIZE_MS) return { order, retryAfterSeconds: minCheckSeconds };
        const error = new AcmeProblem('serverInternal', 'the server stopped while finalizing this order, before the CA was asked; create a new order').toJSON();
        return { order: (await repo.failStrandedFinalize(order.id, order.issuance_order_id, JSON.stringify(error))) ?? order };
      }
      if (submitted.status === 'pending' && submitted.ca_request_id) submitted = await checkCa(order, submitted);
      if (submitted.status === 'pending') return { order, retryAfterSeconds: checkSeconds(submitted) };
      return { order: followIssuance(order, submitted) };
    },

    /**
     * Section 7.4: the CSR must name exactly the order's identifiers; one issuance call. The
     * order is claimed (ready → processing, owner checked) first, in the same statement that
     * reads it; a CSR refused before the CA is asked hands it back as ready.
     */
    async finalize(dir: AcmeDirectory, account: AccountRow, orderId: string, csrDer: Uint8Array): Promise<FinalizedOrder> {
      // The issuance order's id is chosen now, so the claim links the two before the CA is asked.
      const issuanceOrderId = randomUUID();
      const claim = UUID.test(orderId) ? await repo.claimOwnOrderForFinalize(orderId, account.id, issuanceOrderId) : undefined;
      if (!claim) {
        const order = UUID.test(orderId) ? await repo.findOrder(orderId) : undefined;
        if (!order || order.account_id !== account.id) throw new AcmeProblem('notFound', `no order ${orderId} for this account`);
        throw new AcmeProblem('orderNotReady', order.status === 'processing' ? 'the order is already being finalized' : `the order is ${order.status}, not ready`);
      }
      const claimed = claim.order;
      const release = () => repo.claimOrder(claimed.id, 'processing', 'ready');
      let csr;
      try {
        csr = parseCsr(csrDer);
      } catch (err) {
        await release();
        if (err instanceof PkiError) throw new AcmeProblem('badCSR', `the CSR cannot be read: ${err.message}`, { cause: err });
        throw err;
      }
      const mismatch = csrMatchesOrder(csr, claimed.identifiers);
      if (mismatch) {
        await release();
        throw new AcmeProblem('badCSR', mismatch);
      }
      // An account issues for the directory's application unless its EAB key named another.
      const application = account.application_id === dir.application.id ? dir.application : (await deps.catalog.findApplication(account.application_id)) ?? dir.application;
      let outcome: IssueOutcome;
      try {
        // The catalogue counter the request's nonce statement read: the core checks it no second time.
        outcome = await deps.issuance.issue({
          actor: null, protocol: 'acme', application, profile: dir.profile, answerPendingAtOnce: true, orderId: issuanceOrderId, ...(dir.catalogVersion ? { catalogVersion: dir.catalogVersion } : {}),
        }, { kind: 'csr', csr: csrDer });
      } catch (err) {
        const problem = toAcmeProblem(err);
        const caFault = err instanceof AppError && err.code.startsWith('CA_');
        // A refused CSR leaves the order ready for another one; a CA failure ends it.
        await repo.updateOrder(repo.db, claimed.id, caFault ? { status: 'invalid', error: JSON.stringify(problem.toJSON()) } : { status: 'ready' });
        throw err instanceof AppError && !caFault ? new AcmeProblem(problem.type === 'rejectedIdentifier' ? 'rejectedIdentifier' : 'badCSR', problem.message, { cause: err }) : problem;
      }
      // The issuance's own write moved the stored order along (migration 0020): this is that row.
      const order = followIssuance(claimed, outcome.order);
      const authzIds = claim.authorizations.map((a) => a.id);
      // The client's polls drive the CA checks (refresh), so it is told the check interval.
      return outcome.status === 'pending' ? { order, authzIds, retryAfterSeconds: checkSeconds(outcome.order) } : { order, authzIds };
    },

    /** Section 7.5.2: a pending or valid authorization is deactivated, its order turns invalid (7.1.6); audited. */
    async deactivateAuthorization(authz: AuthorizationRow): Promise<AuthorizationRow> {
      if (authz.status !== 'pending' && authz.status !== 'valid') throw new AcmeProblem('malformed', `the authorization is ${authz.status}; only pending and valid ones can be deactivated`);
      return deps.db.transaction().execute(async (trx) => {
        const row = await repo.updateAuthorization(acmeDb(trx), authz.id, { status: 'deactivated' });
        const error = JSON.stringify(new AcmeProblem('unauthorized', `authorization for ${authz.identifier_value} was deactivated`).toJSON());
        await acmeDb(trx).updateTable('acme_orders').set({ status: 'invalid', error, updated_at: new Date() }).where('id', '=', authz.order_id).where('status', 'in', ['pending', 'ready']).execute();
        await appendAudit(trx, { actor: null, action: 'acme.authorization.deactivate', resourceType: 'acme-authorization', resourceId: authz.id, outcome: 'success', details: { accountId: authz.account_id, orderId: authz.order_id, identifier: `${authz.identifier_type}:${authz.identifier_value}` } }, clock);
        return row;
      });
    },

    /** PEM chain (section 7.4.2): the leaf first, then its issuers. */
    chainPem(cert: Pick<CertificateRow, 'der' | 'chain'>): string {
      return [cert.der, ...cert.chain.map((b64) => Buffer.from(b64, 'base64'))].map((der) => pemEncode('CERTIFICATE', der)).join('');
    },
  };
}

export type AcmeOrders = ReturnType<typeof createAcmeOrders>;
