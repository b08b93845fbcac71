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
}

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
  const running = new Set<Promise<void>>();

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

  async function settle(challenge: ChallengeRow, authz: AuthorizationRow, problem: AcmeProblem | null): Promise<void> {
    await repo.db.transaction().execute(async (trx) => {
      if (!problem) {
        await repo.updateChallenge(trx, challenge.id, { status: 'valid', validated_at: clock.now(), error: null });
        await repo.updateAuthorization(trx, authz.id, { status: 'valid' });
        const others = await trx.selectFrom('acme_authorizations').select('status').where('order_id', '=', authz.order_id).execute();
        if (others.every((a) => a.status === 'valid')) {
          await trx.updateTable('acme_orders').set({ status: 'ready', updated_at: new Date() }).where('id', '=', authz.order_id).where('status', '=', 'pending').execute();
        }
        return;
      }
      const error = JSON.stringify({ ...problem.toJSON(), identifier: { type: authz.identifier_type, value: authz.identifier_value } });
      await repo.updateChallenge(trx, challenge.id, { status: 'invalid', error });
      await repo.updateAuthorization(trx, authz.id, { status: 'invalid' });
      await trx.updateTable('acme_orders').set({ status: 'invalid', error, updated_at: new Date() }).where('id', '=', authz.order_id).where('status', '=', 'pending').execute();
    });
  }

  return {
    /**
     * Starts validating (section 7.5.1) unless another request already did; returns at once
     * with the challenge as it now stands.
     */
    async respond(account: AccountRow, challenge: ChallengeRow, authz: AuthorizationRow): Promise<ChallengeRow> {
      if (authz.status !== 'pending' || authz.expires_at <= clock.now()) return challenge;
      const claimed = await repo.claimChallenge(challenge.id);
      if (!claimed) return (await repo.findChallenge(challenge.id)) ?? challenge;
      const keyAuthorization = `${claimed.token}.${account.thumbprint}`;
      const job = attempt(claimed, authz, keyAuthorization)
        .then((problem) => settle(claimed, authz, problem))
        .catch(() => settle(claimed, authz, new AcmeProblem('serverInternal', 'the validation could not be completed')).catch(() => undefined))
        .finally(() => running.delete(job));
      running.add(job);
      return claimed;
    },
    async drain(): Promise<void> {
      while (running.size) await Promise.allSettled([...running]);
    },
  };
}

export type ChallengeRunner = ReturnType<typeof createChallengeRunner>;
