/** Injected waiting, so tests run the retry schedules without real time passing. */
export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Right after a request is pended, the backend asks again this many times with exponential
 * backoff (2+4+8+16+30 s ≈ one minute, what seed 000 users expect) before the order is left
 * `pending` for the background poller.
 */
export const QUICK_RETRY_DELAYS_MS = [2_000, 4_000, 8_000, 16_000, 30_000] as const;

/** Background polling: capped exponential backoff from the first poll after the quick retries. */
export const POLL_BASE_MS = 60_000;
export const POLL_CAP_MS = 60 * 60_000;

/** Delay before the n-th background poll (n = 0 for the first one). */
export function pollDelayMs(n: number): number {
  return Math.min(POLL_CAP_MS, POLL_BASE_MS * 2 ** Math.max(0, Math.min(n, 20)));
}

/** How long an order may stay pending when its profile does not say (SPEC: 30 days). */
export const DEFAULT_PENDING_LIFETIME_DAYS = 30;
