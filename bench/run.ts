/**
 * `npm run bench`: runs every bench file (`bench/*.ts` except this one; helpers live in lib/),
 * one process each, in name order, and exits non-zero if any of them failed.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const dir = import.meta.dirname;
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'run.ts').sort();
let failed = 0;
for (const file of files) {
  console.log(`\n=== bench/${file} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(dir, file)], { stdio: 'inherit', cwd: path.resolve(dir, '..') });
  if (r.status !== 0) failed++, console.log(`bench/${file} failed (exit ${r.status ?? r.signal})`);
}
process.exitCode = failed ? 1 : 0;
