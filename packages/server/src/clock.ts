/** Injected time source so tests control expiry, CRL schedules and polling. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
