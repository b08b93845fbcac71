import type { AcmeRepository } from './acme-repository.ts';
import type { AccountRow } from './acme-tables.ts';

type Answer = { nonceOk: boolean; account: AccountRow | undefined };
type Waiter = { nonce: string; accountId: string; now: Date; resolve: (a: Answer) => void; reject: (err: unknown) => void };

/**
 * The nonce and account of concurrent kid-signed ACME requests in one statement: a request costs
 * one database round trip before its handler even starts, so under load the round trips, not the
 * rows, are what limit a directory. The first caller schedules a query for the end of this
 * event-loop turn, callers arriving until it starts join it, callers arriving while it runs wait
 * for the next one. Nothing is cached: each answer comes from a statement that started after the
 * request asked, so a nonce stays single use and a deactivated account is refused at once, on
 * every instance. (Written here because no library batches data-modifying statements.)
 */
export function createRequestAuthLookup(repo: Pick<AcmeRepository, 'consumeNoncesAndFindAccounts'>, maxBatch = 200) {
  let waiting: Waiter[] = [];
  let inFlight = false;

  async function run(): Promise<void> {
    const batch = waiting.slice(0, maxBatch);
    waiting = waiting.slice(batch.length);
    try {
      // The latest `now` of the batch: a nonce that expired before any caller's moment is refused.
      const now = new Date(Math.max(...batch.map((w) => w.now.getTime())));
      const answers = await repo.consumeNoncesAndFindAccounts(batch, now);
      batch.forEach((w, i) => w.resolve(answers[i]!));
    } catch (err) {
      for (const w of batch) w.reject(err);
    } finally {
      inFlight = false;
      if (waiting.length > 0) start();
    }
  }

  // From setImmediate: the requests whose handlers run in this turn of the event loop share the statement.
  function start(): void {
    inFlight = true;
    setImmediate(() => void run());
  }

  return {
    /** Consumes `nonce` and reads account `accountId` (a UUID) as of a moment after this call. */
    consume(nonce: string, accountId: string, now: Date): Promise<Answer> {
      return new Promise<Answer>((resolve, reject) => {
        waiting.push({ nonce, accountId, now, resolve, reject });
        if (!inFlight) start();
      });
    },
  };
}

export type RequestAuthLookup = ReturnType<typeof createRequestAuthLookup>;
