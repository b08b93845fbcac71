/**
 * Reconnect delay: exponential from `baseMs`, capped at `maxMs`, with "full jitter" (a uniform
 * draw in [delay/2, delay]) so a fleet of connectors does not reconnect in lockstep after a
 * server restart. `random` is injected so tests are deterministic.
 */
export function backoffDelay(attempt: number, opts: { baseMs?: number; maxMs?: number; random?: () => number } = {}): number {
  const base = opts.baseMs ?? 500;
  const max = opts.maxMs ?? 60_000;
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 30));
  const r = (opts.random ?? Math.random)();
  return Math.round(ceiling / 2 + (ceiling / 2) * r);
}
