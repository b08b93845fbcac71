import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The server as `npm start` runs it (package.json "start": node <options> <bundle> serve), for the
 * tests and benches that must run exactly that: the compiled bundle of packages/server/build.mjs and
 * the start script's Node options, read from package.json so there is one place that sets them.
 */
const ROOT = path.resolve(import.meta.dirname, '../../..');

/** The Node options of package.json's start script (the words between `node` and the bundle). */
export function startScriptNodeOptions(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const words = pkg.scripts['start']!.trim().split(/\s+/);
  const bundleAt = words.findIndex((w) => w.endsWith('.mjs'));
  if (words[0] !== 'node' || bundleAt < 0) throw new Error(`package.json "start" is not "node [options] <bundle>.mjs serve": ${pkg.scripts['start']}`);
  return words.slice(1, bundleAt);
}

/**
 * Compiles the server bundle to `outfile` (inside the repository, so node_modules is found) with
 * the same build as `npm run build`.
 */
export function buildServerBundle(outfile: string): string {
  execFileSync(process.execPath, ['packages/server/build.mjs', outfile], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  return outfile;
}
