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

/**
 * The embedded database's named statements (packages/server/src/db/pglite-statements.ts) do not go
 * through `query`: each execution is one protocol buffer that starts with a Bind of the statement's
 * name and carries Describe, Execute and Sync after it. The Parse that prepared the name gave its text.
 * (PGlite's own `query` sends Bind as a buffer of its own; it is counted at `query`.)
 */
const textOfStatement = new Map<string, string>();
const cString = (buf: Uint8Array, at: number): [string, number] => {
  const end = buf.indexOf(0, at);
  return [Buffer.from(buf.subarray(at, end)).toString('utf8'), end + 1];
};
const execProtocolStream = PGlite.prototype.execProtocolStream;
PGlite.prototype.execProtocolStream = function counted(this: PGlite, message: Uint8Array, ...rest: unknown[]) {
  const first = String.fromCharCode(message[0] ?? 0);
  const ownLength = 1 + Buffer.from(message.buffer, message.byteOffset, message.byteLength).readInt32BE(1);
  if (first === 'P') {
    const [name, at] = cString(message, 5);
    if (name) textOfStatement.set(name, cString(message, at)[0]);
  } else if (first === 'B' && message.length > ownLength) {
    const [, at] = cString(message, 5);
    count(textOfStatement.get(cString(message, at)[0]) ?? '');
  }
  return (execProtocolStream as (...a: unknown[]) => ReturnType<typeof execProtocolStream>).call(this, message, ...rest);
} as typeof execProtocolStream;

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
