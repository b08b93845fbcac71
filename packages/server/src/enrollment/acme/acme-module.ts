import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Core } from '../../core.ts';
import { appendAudit } from '../../audit/audit-log.ts';
import { createAcmeAccounts } from './acme-accounts.ts';
import { registerAcmeEabRoutes } from './acme-eab-routes.ts';
import { createAcmeOrders, type RateLimits } from './acme-orders.ts';
import { createAcmeRepository } from './acme-repository.ts';
import { createAcmeRequestDecoder, JOSE_JSON } from './acme-request.ts';
import { createAcmeRevocation } from './acme-revocation.ts';
import { registerAcmeRoutes } from './acme-routes.ts';
import { createRenewalInfo } from './renewal-info.ts';
import { acmeDb } from './acme-tables.ts';
import { urls } from './acme-views.ts';
import { createOrderScreening } from './order-screening.ts';
import { createChallengeRunner, type ChallengeRunnerOptions } from './challenge-runner.ts';
import { importAccountKey, JWS_ALGORITHMS } from './jws.ts';
import { AcmeProblem, toAcmeProblem } from './problems.ts';
import { createValidators, type ValidationOptions } from './validators.ts';

const STRANDED_SWEEP_MS = 60_000;

/** ACME knobs: SPEC's CERTBRIDGE_ACME_* variables, plus what tests tune. */
export interface AcmeOptions extends Partial<ValidationOptions> {
  retryDelaysMs?: ChallengeRunnerOptions['retryDelaysMs'];
  strandedAfterMs?: ChallengeRunnerOptions['strandedAfterMs'];
  limits?: RateLimits;
  /** How often a client's poll may ask the CA about a request awaiting approval (default CA_CHECK_SECONDS). */
  caCheckSeconds?: number;
}

/** Explicit wiring of the ACME services from the core (STYLE "Wiring"). */
export function createAcmeModule(core: Core, options: AcmeOptions & { publicUrl: string }) {
  const repo = createAcmeRepository(acmeDb(core.db));
  const validators = createValidators({ http01Port: options.http01Port ?? 80, tlsAlpn01Port: options.tlsAlpn01Port ?? 443, dnsResolver: options.dnsResolver, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
  return {
    repo,
    decoder: createAcmeRequestDecoder({ repo, catalog: core.repos.catalog, clock: core.clock, publicUrl: options.publicUrl }),
    accounts: createAcmeAccounts({ db: core.db, repo, catalog: core.repos.catalog, sealer: core.sealer, clock: core.clock }),
    orders: createAcmeOrders({
      db: core.db, repo, issuance: core.issuance, orders: core.repos.orders, certificates: core.repos.certificates, catalog: core.repos.catalog, pending: core.adcs.pending,
      screening: createOrderScreening({ repo, catalog: core.repos.catalog }), clock: core.clock,
      ...(options.limits ? { limits: options.limits } : {}), ...(options.caCheckSeconds ? { caCheckSeconds: options.caCheckSeconds } : {}),
    }),
    runner: createChallengeRunner({ repo, clock: core.clock }, {
      validators, ...(options.retryDelaysMs ? { retryDelaysMs: options.retryDelaysMs } : {}), ...(options.strandedAfterMs ? { strandedAfterMs: options.strandedAfterMs } : {}),
    }),
    revocation: createAcmeRevocation({ repo, certificates: core.certificates }),
    renewalInfo: createRenewalInfo({ repo, clock: core.clock }),
    certificates: core.repos.certificates,
    importKey: importAccountKey,
    access: core.access,
    audit: async (event: Parameters<typeof appendAudit>[1]) => core.db.transaction().execute((trx) => appendAudit(trx, event, core.clock)),
  };
}

export type AcmeModule = ReturnType<typeof createAcmeModule>;

/**
 * The ACME server as a Fastify plugin (its own scope): the `application/jose+json` parser, the
 * problem-document error handler, `Replay-Nonce` and `Link: rel="index"` on every answer, and the
 * EAB key API. Validations still running are awaited when the app closes.
 */
export function acmePlugin(core: Core, options: AcmeOptions & { publicUrl: string }): FastifyPluginAsync {
  return async (parent: FastifyInstance) => {
    const m = createAcmeModule(core, options);
    // The EAB key API belongs to the admin API: its errors keep the SPEC JSON shape.
    registerAcmeEabRoutes(parent, m);
    // Validations stranded by a dead process are resumed when the app starts, then swept each minute
    // (an instance that stays up takes over what another one left behind).
    const sweep = () => m.runner.recoverStranded().catch((err: unknown) => parent.log.error({ err }, 'recovering stranded ACME validations failed'));
    let sweeper: NodeJS.Timeout | undefined;
    parent.addHook('onReady', async () => {
      await sweep();
      sweeper = setInterval(sweep, STRANDED_SWEEP_MS).unref();
    });
    parent.addHook('onClose', async () => {
      clearInterval(sweeper);
      await m.runner.drain();
    });
    let issued = 0;
    await parent.register(async (scope: FastifyInstance) => {
      scope.addContentTypeParser(JOSE_JSON, { parseAs: 'string' }, (_req, body, done) => {
        try {
          done(null, JSON.parse(String(body)));
        } catch {
          done(new AcmeProblem('malformed', 'the body is not JSON'), undefined);
        }
      });
      scope.setErrorHandler(async (err, request, reply) => {
        const problem = toAcmeProblem(err);
        if (problem.type === 'serverInternal') request.log.error({ err }, 'ACME request failed');
        const extra = problem.type === 'badSignatureAlgorithm' ? { algorithms: JWS_ALGORITHMS } : {};
        return reply.status(problem.status).type('application/problem+json').send({ ...problem.toJSON(), ...extra });
      });
      scope.addHook('onSend', async (request, reply, payload) => {
        const slug = (request.params as Record<string, string> | undefined)?.['slug'];
        if (slug) reply.header('link', [reply.getHeader('link'), `<${urls(`${options.publicUrl}/acme/${encodeURIComponent(slug)}`).directory}>;rel="index"`].filter(Boolean).join(', '));
        if (!request.url.endsWith('/directory')) {
          reply.header('replay-nonce', await m.repo.newNonce(core.clock.now()));
          if (++issued % 1000 === 0) await m.repo.purgeNonces(core.clock.now());
        }
        return payload;
      });
      registerAcmeRoutes(scope, m);
    });
  };
}
