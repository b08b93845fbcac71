/**
 * CPU time over a bench's timed phase, split by who spent it: the bench process itself (its
 * clients and challenge server share the cores with the server under test), a child process
 * (pebble, read from /proc/<pid>/stat), the PostgreSQL processes, and the whole machine
 * (/proc/stat), whose remainder is anything else running. Linux only; elsewhere those figures
 * are absent.
 */
import fs from 'node:fs';

export interface CpuSample { benchUs: number; childUs: number | undefined; databaseUs: Map<number, number>; machineUs: number | undefined }

const TICK_US = 10_000; // USER_HZ is 100 on Linux (sysconf(_SC_CLK_TCK)); /proc reports ticks.

/** Busy ticks of the whole machine: user, nice, system, irq and softirq (not idle, iowait or steal). */
function machineUs(): number | undefined {
  try {
    const cols = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = cols;
    return (user + nice + system + irq + softirq) * TICK_US;
  } catch {
    return undefined;
  }
}

/** utime + stime of a process (fields 14 and 15 of /proc/<pid>/stat, after the parenthesised name). */
function processUs(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  } catch {
    return undefined;
  }
}

/** CPU time of every process named `postgres` (the server and its backends), by pid. */
function databaseUs(): Map<number, number> {
  const byPid = new Map<number, number>();
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return byPid;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let comm: string;
    try {
      comm = fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
    } catch {
      continue; // ended meanwhile
    }
    const us = comm === 'postgres' ? processUs(Number(entry)) : undefined;
    if (us !== undefined) byPid.set(Number(entry), us);
  }
  return byPid;
}

export function cpuSample(childPid?: number): CpuSample {
  const own = process.cpuUsage();
  return { benchUs: own.user + own.system, childUs: childPid === undefined ? undefined : processUs(childPid), databaseUs: databaseUs(), machineUs: machineUs() };
}

/**
 * PostgreSQL's CPU between two samples: what each process spent since the first (all of it for
 * a backend that started in between). A backend that ended in between is missed; the bench's
 * pooled connections make that rare. Other users of the same PostgreSQL server are counted too.
 */
function databaseDelta(before: Map<number, number>, after: Map<number, number>): number | undefined {
  if (!after.size) return undefined;
  let total = 0;
  for (const [pid, us] of after) total += us - (before.get(pid) ?? 0);
  return total;
}

/** Milliseconds per unit of work between two samples. */
export function cpuPerUnit(before: CpuSample, after: CpuSample, units: number) {
  const per = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : (b - a) / 1000 / Math.max(1, units));
  return { benchMs: per(before.benchUs, after.benchUs)!, childMs: per(before.childUs, after.childUs), databaseMs: per(0, databaseDelta(before.databaseUs, after.databaseUs)), machineMs: per(before.machineUs, after.machineUs) };
}
