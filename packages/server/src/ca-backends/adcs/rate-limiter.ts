import type { Sleep } from './pending-schedule.ts';

/**
 * Per-server request-rate cap (token bucket, burst = one second's worth). Callers over the cap
 * wait their turn instead of failing, so a burst of issuances is smoothed rather than refused,
 * and an ADCS server never sees more than its configured rate from this process.
 */
export function createRateLimiter(now: () => number, sleep: Sleep) {
  const buckets = new Map<string, { tokens: number; at: number; tail: Promise<void> }>();
  return {
    async acquire(key: string, perSecond: number): Promise<void> {
      let b = buckets.get(key);
      if (!b) buckets.set(key, (b = { tokens: perSecond, at: now(), tail: Promise.resolve() }));
      const bucket = b;
      // Serialise waiters per server so tokens are handed out in arrival order.
      const turn = bucket.tail.then(async () => {
        for (;;) {
          const t = now();
          bucket.tokens = Math.min(perSecond, bucket.tokens + ((t - bucket.at) / 1000) * perSecond);
          bucket.at = t;
          if (bucket.tokens >= 1) {
            bucket.tokens -= 1;
            return;
          }
          await sleep(Math.ceil(((1 - bucket.tokens) / perSecond) * 1000));
        }
      });
      bucket.tail = turn;
      await turn;
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
