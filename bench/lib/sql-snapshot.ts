/**
 * The bench side of lib/sql-counter.ts: starts a server process with the counter preloaded
 * (`counterOptions`) and takes snapshots of its running SQL and CPU totals (`snapshot`), so a
 * bench can divide the difference over its timed phase by the work done in between.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SqlCounts } from './sql-counter.ts';

export type { SqlCounts };

const COUNTER = path.join(import.meta.dirname, 'sql-counter.ts');

/** What `startServerProcess` needs to preload the counter; `file` is where snapshots are written. */
export function counterOptions(label: string): { file: string; preload: string[]; env: Record<string, string> } {
  const file = path.join(os.tmpdir(), `certbridge-bench-sql-${process.pid}-${label}.json`);
  return { file, preload: [COUNTER], env: { BENCH_SQL_COUNTER_FILE: file } };
}

const snapshotFiles = async (file: string) =>
  (await fs.readdir(path.dirname(file))).filter((f) => f.startsWith(`${path.basename(file)}.`) && !f.endsWith('.tmp'));

/** Asks the server (SIGUSR2, see lib/sql-counter.ts) for its running SQL and CPU totals, summed over its `processes`. */
export async function snapshot(pid: number, file: string, processes = 1): Promise<SqlCounts> {
  const dir = path.dirname(file);
  for (const f of await snapshotFiles(file)) await fs.rm(path.join(dir, f), { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 500; i++) {
    const files = await snapshotFiles(file);
    if (files.length >= processes) {
      const all = await Promise.all(files.map(async (f) => JSON.parse(await fs.readFile(path.join(dir, f), 'utf8')) as SqlCounts));
      return all.reduce((a, b) => ({ statements: a.statements + b.statements, transactions: a.transactions + b.transactions, background: a.background + b.background, cpuUserUs: a.cpuUserUs + b.cpuUserUs, cpuSystemUs: a.cpuSystemUs + b.cpuSystemUs }));
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the server did not write its SQL counters');
}

/** Removes the snapshot files of `file` (call when the server has stopped). */
export async function removeSnapshots(file: string): Promise<void> {
  for (const f of await snapshotFiles(file)) await fs.rm(path.join(path.dirname(file), f), { force: true });
}
