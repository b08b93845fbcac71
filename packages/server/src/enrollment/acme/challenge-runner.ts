import type { Clock } from '../../clock.ts';
import type { AcmeRepository } from './acme-repository.ts';
import type { AccountRow, AuthorizationRow, ChallengeRow } from './acme-tables.ts';
import { AcmeProblem, toAcmeProblem } from './problems.ts';
import type { Validator } from './validators.ts';
import type { AcmeChallengeType } from './acme-tables.ts';

export interface ChallengeRunnerOptions {
  validators: Record<AcmeChallengeType, Validator>;
  /** Waits before each attempt; the length is the number of attempts (default: now, +1 s, +3 s). */
  retryDelaysMs?: number[];
  sleep?: (ms: number) => Promise<void>;
  /**
   * A challenge `processing` for longer than this was left by a process that died mid-validation
   * (default two minutes: the default attempts take at most 3 × 10 s plus 4 s of waits).
   */
  strandedAfterMs?: number;
  /** How long a challenge response waits for its validation to end before answering `processing` (default 500 ms). */
  answerWaitMs?: number;
}

const DEFAULT_STRANDED_AFTER_MS = 2 * 60_000;
const RECOVERY_BATCH = 100;
const DEFAULT_ANSWER_WAIT_MS = 500;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Runs challenge validations in this process with their state in the database: a challenge whose
 * first attempt passes at once is settled from pending; otherwise it is claimed (pending →
 * processing) by exactly one instance and retried a few times (section 8.2). Either way the
 * challenge, its authorization and — when every authorization is valid — the order move on in one
 * statement. `drain()` waits for validations still running (shutdown, tests).
 */
export function createChallengeRunner(deps: { repo: AcmeRepository; clock: Clock }, options: ChallengeRunnerOptions) {
  const { repo, clock } = deps;
  // At least one attempt: an empty list would settle a challenge valid that nothing validated.
  const delays = options.retryDelaysMs?.length ? options.retryDelaysMs : [0, 1000, 3000];
  const sleep = options.sleep ?? realSleep;
  const strandedAfterMs = options.strandedAfterMs ?? DEFAULT_STRANDED_AFTER_MS;
  const answerWaitMs = options.answerWaitMs ?? DEFAULT_ANSWER_WAIT_MS;
  const running = new Set<Promise<unknown>>();
  /** Challenge responses whose first attempt is under way in this process, by challenge id. */
  const responding = new Map<string, Promise<{ challenge: ChallengeRow; authz: AuthorizationRow }>>();

  /** One validation attempt; its failure as the problem to report (never a rejection). */
  const once = (challenge: ChallengeRow, authz: AuthorizationRow, keyAuthorization: string): Promise<AcmeProblem | null> =>
    Promise.resolve()
      .then(() => options.validators[challenge.type]({ type: authz.identifier_type, value: authz.identifier_value }, challenge.token, keyAuthorization))
      .then(() => null, toAcmeProblem);

  /**
   * Validates a claimed challenge in the background; any failure still settles the challenge
   * (never left processing). `first`: the outcome of a first attempt already under way (see
   * `respond`). The promise is the challenge as settled (undefined if even settling failed).
   */
  function start(challenge: ChallengeRow, authz: AuthorizationRow, keyAuthorization: string, first?: Promise<AcmeProblem | null>): Promise<ChallengeRow | undefined> {
    const job = attempt(challenge, authz, keyAuthorization, first)
      .then((problem) => settle(challenge, authz, problem))
      .catch(() => settle(challenge, authz, new AcmeProblem('serverInternal', 'the validation could not be completed')).catch(() => undefined))
      .finally(() => running.delete(job));
    running.add(job);
    return job;
  }

  async function attempt(challenge: ChallengeRow, authz: AuthorizationRow, keyAuthorization: string, first?: Promise<AcmeProblem | null>): Promise<AcmeProblem | null> {
    let last: AcmeProblem | null = null;
    let attempts = challenge.attempts;
    for (const [i, delay] of delays.entries()) {
      if (delay > 0) await sleep(delay);
      last = await (i === 0 && first ? first : once(challenge, authz, keyAuthorization));
      if (!last) return null;
      await repo.updateChallenge(repo.db, challenge.id, { attempts: ++attempts });
    }
    return last;
  }

  /** The challenge, its authorization and (section 7.1.6) its order move on together. */
  async function settle(challenge: ChallengeRow, authz: AuthorizationRow, problem: AcmeProblem | null): Promise<ChallengeRow> {
    const ids = { challengeId: challenge.id, authorizationId: authz.id, orderId: authz.order_id };
    if (!problem) return repo.settleValidation(ids, { validatedAt: clock.now() });
    const error = JSON.stringify({ ...problem.toJSON(), identifier: { type: authz.identifier_type, value: authz.identifier_value } });
    return repo.settleValidation(ids, { error });
  }

  /** `respond` from its first attempt on (see there). */
  async function firstAttempt(account: AccountRow, challenge: ChallengeRow, authz: AuthorizationRow): Promise<{ challenge: ChallengeRow; authz: AuthorizationRow }> {
    const keyAuthorization = `${challenge.token}.${account.thumbprint}`;
    const first = once(challenge, authz, keyAuthorization);
    let timer: NodeJS.Timeout | undefined;
    const early = await Promise.race([first, new Promise<'waiting'>((resolve) => (timer = setTimeout(() => resolve('waiting'), answerWaitMs).unref()))]);
    clearTimeout(timer);
    if (early === null) {
      const settled = await repo.settleValidFromPending({ challengeId: challenge.id, authorizationId: authz.id, orderId: authz.order_id }, account.id, clock.now());
      if (settled) return { challenge: settled, authz: { ...authz, status: 'valid' } };
      return (await repo.findChallengeWithAuthorization(challenge.id)) ?? { challenge, authz };
    }
    const claimed = await repo.claimChallengeForResponse(challenge.id, account.id, clock.now());
    if (!claimed) return { challenge, authz };
    if (claimed.claimed) void start(claimed.challenge, claimed.authz, keyAuthorization, early === 'waiting' ? first : Promise.resolve(early));
    return { challenge: claimed.challenge, authz: claimed.authz };
  }

  return {
    /**
     * A challenge response (section 7.5.1) from `account`, for the challenge and authorization as
     * the request read them. A challenge that is not the account's to answer (not pending, its
     * authorization not the account's, settled or expired) is answered as it stands.
     *
     * The first attempt runs before anything is written: when it passes within the answer wait
     * (the usual case) one statement settles the challenge from pending, and the client is
     * answered `valid`. Otherwise the challenge is claimed (pending → processing, once across
     * instances) as soon as the attempt fails or the wait ends, the retries go on in the
     * background, and the client is answered `processing`. A response that finds the challenge
     * claimed or settled by another answers it as it now stands; its own attempt counts for nothing.
     * Nothing is written before the claim, so a crash during the first attempt leaves the
     * challenge pending, as the unanswered client found it.
     */
    async respond(account: AccountRow, found: { challenge: ChallengeRow; authz: AuthorizationRow }): Promise<{ challenge: ChallengeRow; authz: AuthorizationRow }> {
      const { challenge, authz } = found;
      if (challenge.status !== 'pending' || authz.status !== 'pending' || authz.account_id !== account.id || authz.expires_at <= clock.now()) return found;
      // Responses repeated while the first attempt runs share it: no claim guards that window, and
      // each attempt is a request to the identifier's host, which repeated responses must not multiply.
      const under = responding.get(challenge.id);
      if (under) return under;
      const flow = firstAttempt(account, challenge, authz).finally(() => responding.delete(challenge.id));
      responding.set(challenge.id, flow);
      return flow;
    },
    /**
     * Resumes validations stranded by a process that died: each challenge still `processing`
     * after `strandedAfterMs` is taken over (once across instances) and validated again, or
     * failed with a clear error when its authorization can no longer become valid. Returns how
     * many it took over; the validations themselves run in the background like `respond`.
     */
    async recoverStranded(): Promise<number> {
      const now = clock.now();
      const stale = await repo.strandedChallenges(new Date(now.getTime() - strandedAfterMs), RECOVERY_BATCH);
      let taken = 0;
      for (const row of stale) {
        const claimed = await repo.reclaimChallenge(row, now);
        const authz = claimed ? await repo.findAuthorization(claimed.authorization_id) : undefined;
        if (!claimed || !authz) continue;
        taken++;
        const account = await repo.findAccount(authz.account_id);
        const interrupted = (why: string) => new AcmeProblem('serverInternal', `the validation was interrupted by a server restart and cannot resume: ${why}`);
        if (authz.status !== 'pending') {
          // Settled another way meanwhile (another challenge, deactivation): only this challenge ends.
          const error = JSON.stringify({ ...interrupted(`the authorization is ${authz.status}`).toJSON(), identifier: { type: authz.identifier_type, value: authz.identifier_value } });
          await repo.updateChallenge(repo.db, claimed.id, { status: 'invalid', error });
          continue;
        }
        if (authz.expires_at <= now || account?.status !== 'valid') {
          await settle(claimed, authz, interrupted(authz.expires_at <= now ? 'the authorization has expired' : 'the account is no longer valid'));
          continue;
        }
        start(claimed, authz, `${claimed.token}.${account.thumbprint}`);
      }
      return taken;
    },
    async drain(): Promise<void> {
      while (running.size) await Promise.allSettled([...running]);
    },
  };
}

export type ChallengeRunner = ReturnType<typeof createChallengeRunner>;
