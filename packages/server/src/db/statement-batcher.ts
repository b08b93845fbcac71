/**
 * Shares one database statement among the requests that ask in the same turn of the event loop.
 * On a small machine a round trip costs more than the rows it reads (the database backend has to
 * be woken on the same cores), so hot lookups that every request makes are batched: the first
 * caller schedules a statement for the end of this turn (setImmediate: with PGlite a query answers
 * within the turn, so anything sooner would never be shared), callers arriving until it starts
 * join it, and callers arriving while it runs wait for the next one. Nothing is cached: every answer
 * comes from a statement that started after its caller asked. (No library batches arbitrary
 * statements this way; DataLoader-style loaders cache or tie batches to ticks of promises.)
 *
 * `runBatch` answers the queries of a batch in their order.
 */
export function createStatementBatcher<Q, A>(runBatch: (queries: Q[]) => Promise<A[]>, maxBatch: number): (query: Q) => Promise<A> {
  type Waiter = { query: Q; resolve: (answer: A) => void; reject: (err: unknown) => void };
  let waiting: Waiter[] = [];
  let inFlight = false;

  async function run(): Promise<void> {
    const batch = waiting.slice(0, maxBatch);
    waiting = waiting.slice(batch.length);
    try {
      const answers = await runBatch(batch.map((w) => w.query));
      batch.forEach((w, i) => w.resolve(answers[i]!));
    } catch (err) {
      for (const w of batch) w.reject(err);
    } finally {
      inFlight = false;
      if (waiting.length > 0) start();
    }
  }

  function start(): void {
    inFlight = true;
    setImmediate(() => void run());
  }

  return (query: Q) => new Promise<A>((resolve, reject) => {
    waiting.push({ query, resolve, reject });
    if (!inFlight) start();
  });
}
