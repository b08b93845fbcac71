import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.ts';

describe('backoffDelay', () => {
  it.each([
    ['ok/first-attempt-low-jitter', 0, 0, 250],
    ['ok/first-attempt-high-jitter', 0, 1, 500],
    ['ok/doubles', 3, 1, 4000],
    ['ok/capped', 20, 1, 60_000],
    ['ok/capped-low-jitter', 20, 0, 30_000],
  ])('%s', (_name, attempt, random, expected) => {
    expect(backoffDelay(attempt, { random: () => random })).toBe(expected);
  });
});
