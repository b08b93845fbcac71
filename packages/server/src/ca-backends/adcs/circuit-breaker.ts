import type { Clock } from '../../clock.ts';

export interface BreakerOptions {
  /** Consecutive retryable failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses calls before one trial call is let through. */
  openMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = { failureThreshold: 3, openMs: 30_000 };

export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * A circuit breaker per ADCS server: after `failureThreshold` consecutive failures the server is
 * skipped for `openMs`; then one trial request decides (success closes, failure reopens).
 * In memory per process: each server instance learns on its own, which is what failover needs.
 */
export function createBreakers(clock: Clock, options: BreakerOptions = DEFAULT_BREAKER) {
  const states = new Map<string, { failures: number; openedAt: number | null; trial: boolean }>();
  const get = (key: string) => {
    let s = states.get(key);
    if (!s) states.set(key, (s = { failures: 0, openedAt: null, trial: false }));
    return s;
  };
  const state = (key: string): BreakerState => {
    const s = get(key);
    if (s.openedAt === null) return 'closed';
    return clock.now().getTime() - s.openedAt >= options.openMs ? 'half-open' : 'open';
  };
  return {
    state,
    /** True when a call may go to this server now (a half-open circuit lets one trial through). */
    allow(key: string): boolean {
      const st = state(key);
      if (st === 'closed') return true;
      if (st === 'open') return false;
      const s = get(key);
      if (s.trial) return false;
      s.trial = true;
      return true;
    },
    success(key: string): void {
      states.set(key, { failures: 0, openedAt: null, trial: false });
    },
    failure(key: string): void {
      const s = get(key);
      s.failures += 1;
      s.trial = false;
      if (s.failures >= options.failureThreshold || s.openedAt !== null) s.openedAt = clock.now().getTime();
    },
    reset: () => states.clear(),
  };
}

export type Breakers = ReturnType<typeof createBreakers>;
