/**
 * When the next client-secret rotation is due: `intervalDays` calendar days after the last one,
 * at a local time of day in an IANA time zone. Calendar arithmetic happens on the local date, so
 * a rotation at 03:00 Europe/Berlin stays at 03:00 across DST changes. A local time that does
 * not exist (spring forward gap) moves forward by the gap; one that exists twice (fall back)
 * takes the first occurrence.
 */

export const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)$/;

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(zone, f);
  }
  return f;
}

/** Wall-clock fields of an instant in a zone. */
export function localParts(instant: number, zone: string): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  const parts = Object.fromEntries(formatter(zone).formatToParts(new Date(instant)).map((p) => [p.type, p.value]));
  return { year: Number(parts['year']), month: Number(parts['month']), day: Number(parts['day']), hour: Number(parts['hour']), minute: Number(parts['minute']), second: Number(parts['second']) };
}

/** The zone's offset from UTC at an instant, in milliseconds (east positive). */
export function offsetAt(instant: number, zone: string): number {
  const p = localParts(instant, zone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/** The instant a local date and time happens in a zone (gap: moved forward; overlap: first). */
export function zonedInstant(year: number, month: number, day: number, hour: number, minute: number, zone: string): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  // The offsets in force a day either side cover any transition near this wall time.
  const offsets = [...new Set([offsetAt(wall - 86_400_000, zone), offsetAt(wall, zone), offsetAt(wall + 86_400_000, zone)])];
  const valid = offsets.map((o) => wall - o).filter((t) => offsetAt(t, zone) === wall - t).sort((a, b) => a - b);
  if (valid.length) return valid[0]!;
  // In a gap: read the wall time with the offset before the transition, which lands after it.
  return wall - offsetAt(wall - 86_400_000, zone);
}

export interface RotationSchedule {
  intervalDays: number;
  /** `HH:MM` local time. */
  time: string;
  timeZone: string;
}

/**
 * The first scheduled instant strictly after `from`, `intervalDays` local days after the local
 * date of `from` (so a rotation that ran late does not drift the time of day).
 */
export function nextRotationAt(from: Date, schedule: RotationSchedule): Date {
  const m = TIME_OF_DAY.exec(schedule.time);
  if (!m) throw new Error(`time ${JSON.stringify(schedule.time)} is not HH:MM`);
  const [hour, minute] = [Number(m[1]), Number(m[2])];
  const local = localParts(from.getTime(), schedule.timeZone);
  for (let extra = 0; ; extra++) {
    // Date.UTC normalises day overflow (Jan 32 → Feb 1): plain calendar arithmetic on the local date.
    const d = new Date(Date.UTC(local.year, local.month - 1, local.day + schedule.intervalDays + extra));
    const at = zonedInstant(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), hour, minute, schedule.timeZone);
    if (at > from.getTime()) return new Date(at);
  }
}

/** Retry delay after the n-th consecutive failure: 5 min doubling, at most 6 hours. */
export function retryBackoffMs(attempts: number): number {
  return Math.min(5 * 60_000 * 2 ** Math.max(0, attempts - 1), 6 * 3_600_000);
}
