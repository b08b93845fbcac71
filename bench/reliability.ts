/**
 * `npm run bench:reliability`: the full-size reliability and fuzzing runs of issue 10, the same
 * test files CI runs scaled down, with the bench-mode sizes set through their environment knobs:
 *   RELIABILITY_ISSUANCES=1000  kill -9 during 1,000 concurrent issuances (PGlite and PostgreSQL)
 *   RELIABILITY_PG_CONCURRENCY=32, RELIABILITY_PG_DOWN_MS=5000  PostgreSQL restarted under heavier load
 *   RELIABILITY_TWO_ISSUANCES=1000  two instances on one PostgreSQL, one killed -9 after a third of 1,000 issuances
 *   RELIABILITY_ADCS_ISSUANCES=1000  ADCS primary closed during 1,000 concurrent issuances, then back
 *   FUZZ_RUNS=100000            every parser property with 100,000 cases (HTTP endpoints 10,000)
 * `npm run bench` also lists this file; there it only says how to run it, since one full run takes
 * far longer than the speed benches. Each test prints its figures as a `reliability-*` JSON line.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
if (process.env.npm_lifecycle_event !== 'bench:reliability' && !process.argv.includes('--full')) {
  console.log('reliability: not part of the speed run; use `npm run bench:reliability` (or `node --import tsx bench/reliability.ts --full`)');
  process.exit(0);
}
const only = process.argv.slice(2).filter((a) => a !== '--full');
const RELIABILITY = ['reliability-kill', 'reliability-pg-restart', 'reliability-two-instances', 'reliability-adcs-failover'].map((f) => `packages/server/test/${f}.test.ts`);
const FUZZ = ['fuzz-pki', 'fuzz-adcs', 'fuzz-scep-est', 'fuzz-acme-connector', 'fuzz-http'].map((f) => `packages/server/test/${f}.test.ts`);
const env = {
  ...process.env,
  TEST_DATABASE_URL: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  RELIABILITY_ISSUANCES: process.env.RELIABILITY_ISSUANCES ?? '1000',
  RELIABILITY_PG_CONCURRENCY: process.env.RELIABILITY_PG_CONCURRENCY ?? '32',
  RELIABILITY_PG_DOWN_MS: process.env.RELIABILITY_PG_DOWN_MS ?? '5000',
  RELIABILITY_TWO_ISSUANCES: process.env.RELIABILITY_TWO_ISSUANCES ?? '1000',
  RELIABILITY_ADCS_ISSUANCES: process.env.RELIABILITY_ADCS_ISSUANCES ?? '1000',
  FUZZ_RUNS: process.env.FUZZ_RUNS ?? '100000',
};
let failed = 0;
for (const file of only.length ? only : [...RELIABILITY, ...FUZZ]) {
  console.log(`\n=== ${file} (FUZZ_RUNS=${env.FUZZ_RUNS}, RELIABILITY_ISSUANCES=${env.RELIABILITY_ISSUANCES}) ===`);
  const started = Date.now();
  // No per-test timeout in bench mode: 100,000 cases of a CMS parser take minutes.
  const r = spawnSync('npx', ['vitest', 'run', file, '--testTimeout=0', '--hookTimeout=0'], { cwd: root, env, stdio: 'inherit' });
  console.log(`${file}: ${r.status === 0 ? 'passed' : `FAILED (exit ${r.status ?? r.signal})`} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
