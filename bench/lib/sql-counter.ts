/**
 * Preloaded into the bench's server process (`node --import tsx --import ./bench/lib/sql-counter.ts`):
 * counts every SQL statement the process sends (each `query` call is one round trip) on both
 * drivers, how many of them open a transaction, and the process's CPU time. On SIGUSR2 it writes
 * the running totals to BENCH_SQL_COUNTER_FILE.<pid> (with CERTBRIDGE_WORKERS, one file per process), so the bench can take a snapshot before and after
 * its timed phase and divide the difference by the certificates issued in between. Statements of
 * pg-boss (its own schema) are counted apart: they are background polling, not issuance work.
 */
import cluster from 'node:cluster';
import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

export interface SqlCounts { statements: number; transactions: number; background: number; cpuUserUs: number; cpuSystemUs: number }

const counts = { statements: 0, transactions: 0, background: 0 };

function count(text: unknown): void {
  const sql = typeof text === 'string' ? text : typeof text === 'object' && text !== null && 'text' in text ? String((text as { text: unknown }).text) : '';
  if (/pgboss/i.test(sql)) {
    counts.background += 1;
    return;
  }
  counts.statements += 1;
  if (/^\s*begin\b/i.test(sql)) counts.transactions += 1;
}

type QueryFn = (...args: unknown[]) => unknown;
const wrap = (proto: Record<string, unknown>, name: string): void => {
  const original = proto[name] as QueryFn;
  proto[name] = function counted(this: unknown, ...args: unknown[]) {
    count(args[0]);
    return original.apply(this, args);
  };
};
wrap(pg.Client.prototype as unknown as Record<string, unknown>, 'query');
wrap(PGlite.prototype as unknown as Record<string, unknown>, 'query');
wrap(PGlite.prototype as unknown as Record<string, unknown>, 'exec');

const file = process.env['BENCH_SQL_COUNTER_FILE'];
if (file) {
  process.on('SIGUSR2', () => {
    // CERTBRIDGE_WORKERS: the primary passes the signal on; every process writes its own file.
    if (cluster.isPrimary) for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGUSR2');
    const cpu = process.cpuUsage();
    const snapshot: SqlCounts = { ...counts, cpuUserUs: cpu.user, cpuSystemUs: cpu.system };
    fs.writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify(snapshot));
    fs.renameSync(`${file}.${process.pid}.tmp`, `${file}.${process.pid}`);
  });
}
