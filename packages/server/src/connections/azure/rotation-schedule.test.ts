import { describe, expect, it } from 'vitest';
import { isTimeZone, nextRotationAt, retryBackoffMs, zonedInstant } from './rotation-schedule.ts';

describe('zonedInstant', () => {
  it.each([
    ['ok/winter Berlin is UTC+1', 2026, 1, 15, 3, 0, 'Europe/Berlin', '2026-01-15T02:00:00.000Z'],
    ['ok/summer Berlin is UTC+2', 2026, 7, 15, 3, 0, 'Europe/Berlin', '2026-07-15T01:00:00.000Z'],
    ['ok/spring-forward gap 02:30 moves to 03:30 CEST', 2026, 3, 29, 2, 30, 'Europe/Berlin', '2026-03-29T01:30:00.000Z'],
    ['ok/fall-back overlap 02:30 takes the first (CEST)', 2026, 10, 25, 2, 30, 'Europe/Berlin', '2026-10-25T00:30:00.000Z'],
    ['ok/New York gap 02:15 moves to 03:15 EDT', 2026, 3, 8, 2, 15, 'America/New_York', '2026-03-08T07:15:00.000Z'],
    ['ok/UTC', 2026, 2, 28, 23, 59, 'UTC', '2026-02-28T23:59:00.000Z'],
    ['ok/half-hour zone', 2026, 5, 1, 9, 0, 'Asia/Kolkata', '2026-05-01T03:30:00.000Z'],
  ])('%s', (_name, y, mo, d, h, mi, zone, expected) => {
    expect(new Date(zonedInstant(y, mo, d, h, mi, zone)).toISOString()).toBe(expected);
  });
});

describe('nextRotationAt', () => {
  it.each([
    ['ok/30 days at 03:00 Berlin across the spring change', '2026-03-10T02:00:00Z', 30, '03:00', 'Europe/Berlin', '2026-04-09T01:00:00.000Z'],
    ['ok/1 day across the fall change keeps 03:00 local', '2026-10-24T01:00:00Z', 1, '03:00', 'Europe/Berlin', '2026-10-25T02:00:00.000Z'],
    ['ok/late run does not drift the time of day', '2026-01-10T17:45:00Z', 7, '03:00', 'Europe/Berlin', '2026-01-17T02:00:00.000Z'],
    ['ok/local date is used, not the UTC date', '2026-01-10T23:30:00Z', 1, '08:00', 'Asia/Tokyo', '2026-01-11T23:00:00.000Z'],
    ['ok/month end rolls over', '2026-01-31T12:00:00Z', 1, '12:00', 'UTC', '2026-02-01T12:00:00.000Z'],
  ])('%s', (_name, from, days, time, zone, expected) => {
    expect(nextRotationAt(new Date(from), { intervalDays: days, time, timeZone: zone }).toISOString()).toBe(expected);
  });

  it('fail/time that is not HH:MM', () => {
    expect(() => nextRotationAt(new Date(), { intervalDays: 1, time: '25:00', timeZone: 'UTC' })).toThrow('time "25:00" is not HH:MM');
  });
});

describe('isTimeZone and retryBackoffMs', () => {
  it.each([['Europe/Berlin', true], ['UTC', true], ['Mars/Olympus', false], ['', false]])('%s → %s', (zone, ok) => {
    expect(isTimeZone(zone)).toBe(ok);
  });
  it.each([[1, 300_000], [2, 600_000], [4, 2_400_000], [20, 21_600_000]])('ok/attempt %i waits %i ms', (n, ms) => {
    expect(retryBackoffMs(n)).toBe(ms);
  });
});
