import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** packages/web */
export const WEB_DIR = fileURLToPath(new URL('..', import.meta.url));
const ROOT = path.resolve(WEB_DIR, '../..');
const DIST_INDEX = path.join(WEB_DIR, 'dist', 'index.html');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * Builds the web UI (`npm run build -w packages/web`) unless dist/index.html is newer than every
 * source file: the browser tests run against exactly what `npm start` serves.
 */
export async function ensureWebUiBuilt(): Promise<void> {
  const sources = Math.max(newestMtime(path.join(WEB_DIR, 'src')), newestMtime(path.join(WEB_DIR, 'public')), fs.statSync(path.join(WEB_DIR, 'index.html')).mtimeMs, fs.statSync(path.join(WEB_DIR, 'vite.config.ts')).mtimeMs);
  const built = fs.statSync(DIST_INDEX, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  if (built > sources) return;
  try {
    await promisify(execFile)('npm', ['run', 'build', '-w', 'packages/web'], { cwd: ROOT, timeout: 180_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`building the web UI failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}
