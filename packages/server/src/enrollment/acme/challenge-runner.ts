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
 * Runs challenge validations in this process with their state in the database: a challenge is
 * claimed (pending → processing) by exactly one instance, retried a few times (section 8.2),
 * then the challenge, its authorization and — when every authorization is valid — the order
 * move on in one transaction. `drain()` waits for validations still running (shutdown, tests).
 */
export function createChallengeRunner(deps: { repo: AcmeRepository; clock: Clock }, options: ChallengeRunnerOptions) {
  const { repo, clock } = deps;
  const delays = options.retryDelaysMs ?? [0, 1000, 3000];
  const sleep = options.sleep ?? realSleep;
  const strandedAfterMs = options.strandedAfterMs ?? DEFAULT_STRANDED_AFTER_MS;
  const answerWaitMs = options.answerWaitMs ?? DEFAULT_ANSWER_WAIT_MS;
  const running = new Set<Promise<unknown>>();

  /**
   * Validates in the background; any failure still settles the challenge (never left processing).
   * The promise is the challenge as settled (undefined if even settling failed).
   */
  function start(challenge: ChallengeRow, authz: AuthorizationRow, keyAuthorization: string): Promise<ChallengeRow | undefined> {
    const job = attempt(challenge, authz, keyAuthorization)
      .then((problem) => settle(challenge, authz, problem))
      .catch(() => settle(challenge, authz, new AcmeProblem('serverInternal', 'the validation could not be completed')).catch(() => undefined))
      .finally(() => running.delete(job));
    running.add(job);
    return job;
  }

  async function attempt(challenge: ChallengeRow, authz: AuthorizationRow, keyAuthorization: string): Promise<AcmeProblem | null> {
    let last: AcmeProblem | null = null;
    let attempts = challenge.attempts;
    for (const delay of delays) {
      if (delay > 0) await sleep(delay);
      try {
        await options.validators[challenge.type]({ type: authz.identifier_type, value: authz.identifier_value }, challenge.token, keyAuthorization);
        return null;
      } catch (err) {
        last = toAcmeProblem(err);
        await repo.updateChallenge(repo.db, challenge.id, { attempts: ++attempts });
      }
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

  return {
    /**
     * A challenge response (section 7.5.1) from `account`: claims the challenge and starts
     * validating it unless another request already did (or its authorization is not the
     * account's, or no longer pending), in the statement that reads it. Undefined when no such
     * challenge exists; the authorization tells the caller whose it is.
     */
    async respond(account: AccountRow, challengeId: string): Promise<{ challenge: ChallengeRow; authz: AuthorizationRow } | undefined> {
      const found = await repo.claimChallengeForResponse(challengeId, account.id, clock.now());
      if (!found?.claimed) return found;
      const { challenge, authz } = found;
      const settled = start(challenge, authz, `${challenge.token}.${account.thumbprint}`);
      // A validation that ends quickly (the usual case) is answered with its outcome, which
      // spares the client a round of authorization polls; a slow one is answered as processing.
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([settled, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), answerWaitMs).unref()))]);
      clearTimeout(timer);
      return { challenge: outcome ?? challenge, authz };
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
