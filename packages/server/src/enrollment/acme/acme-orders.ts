import { randomBytes, randomUUID } from 'node:crypto';
import { parseCsr, pemEncode, PkiError } from '@certbridge/pki';
import type { Clock } from '../../clock.ts';
import type { CertificateRow } from '../../db/schema.ts';
import { AppError } from '../../errors.ts';
import type { IssuanceService, IssueOutcome } from '../../issuance/issuance-service.ts';
import { dnsMatches, ipMatches } from '../../issuance/patterns.ts';
import type { CertificatesRepository } from '../../repositories/certificates-repository.ts';
import type { OrdersRepository } from '../../repositories/orders-repository.ts';
import type { CatalogRepository } from '../../repositories/catalog-repository.ts';
import type { AcmeRepository } from './acme-repository.ts';
import type { AccountRow, AcmeIdentifier, AcmeOrderRow } from './acme-tables.ts';
import type { AcmeDirectory } from './acme-views.ts';
import { challengeTypesFor, csrMatchesOrder } from './identifiers.ts';
import { AcmeProblem, toAcmeProblem } from './problems.ts';

const DAY_MS = 86_400_000;
const ORDER_LIFETIME_MS = 7 * DAY_MS;

export interface RateLimits {
  /** New orders per account per hour. */
  ordersPerAccountPerHour: number;
  /** New orders naming one identifier per hour, across the accounts of a directory. */
  ordersPerIdentifierPerHour: number;
}
export const DEFAULT_RATE_LIMITS: RateLimits = { ordersPerAccountPerHour: 300, ordersPerIdentifierPerHour: 50 };

/** Orders, their authorizations and challenges, finalize through the issuance core (section 7.4). */
export function createAcmeOrders(deps: {
  repo: AcmeRepository; issuance: IssuanceService; orders: OrdersRepository; certificates: CertificatesRepository; catalog: CatalogRepository; clock: Clock; limits?: RateLimits;
}) {
  const { repo, clock } = deps;
  const limits = deps.limits ?? DEFAULT_RATE_LIMITS;

  /** Applies what the issuance core says about a submitted order to the ACME order. */
  async function record(order: AcmeOrderRow, outcome: IssueOutcome): Promise<{ order: AcmeOrderRow; retryAfterSeconds?: number }> {
    if (outcome.status === 'issued') return { order: await repo.updateOrder(repo.db, order.id, { status: 'valid', issuance_order_id: outcome.order.id, certificate_id: outcome.certificate.id }) };
    if (outcome.status === 'pending') return { order: await repo.updateOrder(repo.db, order.id, { status: 'processing', issuance_order_id: outcome.order.id }), retryAfterSeconds: outcome.retryAfterSeconds };
    const reason = outcome.order.disposition ?? 'no reason given';
    const error = new AcmeProblem('unauthorized', `the CA denied the request: ${reason}`).toJSON();
    return { order: await repo.updateOrder(repo.db, order.id, { status: 'invalid', issuance_order_id: outcome.order.id, error: JSON.stringify(error) }) };
  }

  return {
    async newOrder(account: AccountRow, identifiers: AcmeIdentifier[]): Promise<{ order: AcmeOrderRow; authzIds: string[] }> {
      const now = clock.now();
      const recent = await repo.countOrdersSince(account.id, new Date(now.getTime() - 3_600_000));
      if (recent >= limits.ordersPerAccountPerHour) {
        throw new AcmeProblem('rateLimited', `account ${account.id} created ${recent} orders in the last hour; the limit is ${limits.ordersPerAccountPerHour}`);
      }
      if (account.eab_key_id) {
        const patterns = (await repo.findEabKey(account.eab_key_id))?.identifier_patterns ?? [];
        const outside = patterns.length ? identifiers.filter((i) => !patterns.some((p) => (i.type === 'ip' ? ipMatches(i.value, p) : dnsMatches(i.value, p)))) : [];
        if (outside.length) throw new AcmeProblem('rejectedIdentifier', `the external account key of this account does not cover ${outside.map((i) => i.value).join(', ')}`);
      }
      for (const identifier of identifiers) {
        const n = await repo.countIdentifierOrdersSince(account.profile_id, identifier.value.replace(/^\*\./, ''), new Date(now.getTime() - 3_600_000));
        if (n >= limits.ordersPerIdentifierPerHour) throw new AcmeProblem('rateLimited', `${identifier.value} was ordered ${n} times in the last hour; the limit is ${limits.ordersPerIdentifierPerHour}`);
      }
      const expires = new Date(now.getTime() + ORDER_LIFETIME_MS);
      return repo.db.transaction().execute(async (trx) => {
        const order = await repo.insertOrder(trx, {
          id: randomUUID(), account_id: account.id, status: 'pending', identifiers: JSON.stringify(identifiers), not_before: null, not_after: null, expires_at: expires, error: null, issuance_order_id: null, certificate_id: null, created_at: now,
        });
        const authzIds: string[] = [];
        const challenges = [];
        for (const identifier of identifiers) {
          const id = randomUUID();
          const wildcard = identifier.value.startsWith('*.');
          await repo.insertAuthorization(trx, { id, order_id: order.id, account_id: account.id, identifier_type: identifier.type, identifier_value: wildcard ? identifier.value.slice(2) : identifier.value, wildcard, status: 'pending', expires_at: expires });
          authzIds.push(id);
          for (const type of challengeTypesFor(identifier)) challenges.push({ id: randomUUID(), authorization_id: id, type, token: randomBytes(32).toString('base64url'), status: 'pending' as const, validated_at: null, error: null });
        }
        await repo.insertChallenges(trx, challenges);
        return { order, authzIds };
      });
    },

    /** The order, after asking the issuance core about a pending CA request (ADCS approval). */
    async refresh(order: AcmeOrderRow): Promise<{ order: AcmeOrderRow; retryAfterSeconds?: number }> {
      if (order.status === 'pending' && order.expires_at <= clock.now()) return { order: await repo.updateOrder(repo.db, order.id, { status: 'invalid', error: JSON.stringify(new AcmeProblem('malformed', 'the order expired').toJSON()) }) };
      if (order.status !== 'processing' || !order.issuance_order_id) return { order };
      const submitted = await deps.orders.find(order.issuance_order_id);
      if (!submitted || submitted.status === 'pending') {
        const wait = submitted?.next_poll_at ? Math.max(1, Math.ceil((submitted.next_poll_at.getTime() - clock.now().getTime()) / 1000)) : 10;
        return { order, retryAfterSeconds: wait };
      }
      if (submitted.status === 'issued' && submitted.certificate_id) return { order: await repo.updateOrder(repo.db, order.id, { status: 'valid', certificate_id: submitted.certificate_id }) };
      const error = new AcmeProblem('unauthorized', `the CA did not issue: ${submitted.disposition ?? submitted.status}`).toJSON();
      return { order: await repo.updateOrder(repo.db, order.id, { status: 'invalid', error: JSON.stringify(error) }) };
    },

    /** Section 7.4: the CSR must name exactly the order's identifiers; one issuance call. */
    async finalize(dir: AcmeDirectory, account: AccountRow, order: AcmeOrderRow, csrDer: Uint8Array): Promise<{ order: AcmeOrderRow; retryAfterSeconds?: number }> {
      if (order.status !== 'ready') throw new AcmeProblem('orderNotReady', `the order is ${order.status}, not ready`);
      let csr;
      try {
        csr = parseCsr(csrDer);
      } catch (err) {
        if (err instanceof PkiError) throw new AcmeProblem('badCSR', `the CSR cannot be read: ${err.message}`, { cause: err });
        throw err;
      }
      const mismatch = csrMatchesOrder(csr, order.identifiers);
      if (mismatch) throw new AcmeProblem('badCSR', mismatch);
      const claimed = await repo.claimOrder(order.id, 'ready', 'processing');
      if (!claimed) throw new AcmeProblem('orderNotReady', 'the order is already being finalized');
      const application = (await deps.catalog.findApplication(account.application_id)) ?? dir.application;
      let outcome: IssueOutcome;
      try {
        outcome = await deps.issuance.issue({ actor: null, protocol: 'acme', application, profile: dir.profile }, { kind: 'csr', csr: csrDer });
      } catch (err) {
        const problem = toAcmeProblem(err);
        const caFault = err instanceof AppError && err.code.startsWith('CA_');
        // A refused CSR leaves the order ready for another one; a CA failure ends it.
        await repo.updateOrder(repo.db, order.id, caFault ? { status: 'invalid', error: JSON.stringify(problem.toJSON()) } : { status: 'ready' });
        throw err instanceof AppError && !caFault ? new AcmeProblem(problem.type === 'rejectedIdentifier' ? 'rejectedIdentifier' : 'badCSR', problem.message, { cause: err }) : problem;
      }
      return record(claimed, outcome);
    },

    /** PEM chain (section 7.4.2): the leaf first, then its issuers. */
    chainPem(cert: CertificateRow): string {
      return [cert.der, ...cert.chain.map((b64) => Buffer.from(b64, 'base64'))].map((der) => pemEncode('CERTIFICATE', der)).join('');
    },
  };
}

export type AcmeOrders = ReturnType<typeof createAcmeOrders>;
