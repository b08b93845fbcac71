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
  if (upToDate()) return;
  // Test files run in parallel processes and several need the UI: one builds while the others wait,
  // then find it built. Two builds at once would each empty dist/ under the other and its server.
  await withBuildLock(async () => {
    if (upToDate()) return;
    try {
      await promisify(execFile)('npm', ['run', 'build', '-w', 'packages/web'], { cwd: ROOT, timeout: 180_000 });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`building the web UI failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
    }
  });
}

function upToDate(): boolean {
  const sources = Math.max(newestMtime(path.join(WEB_DIR, 'src')), newestMtime(path.join(WEB_DIR, 'public')), fs.statSync(path.join(WEB_DIR, 'index.html')).mtimeMs, fs.statSync(path.join(WEB_DIR, 'vite.config.ts')).mtimeMs);
  const built = fs.statSync(DIST_INDEX, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  return built > sources;
}

/** A cross-process lock: creating a directory is atomic. A lock older than a build's timeout is a crashed holder's. */
async function withBuildLock(build: () => Promise<void>): Promise<void> {
  const lock = path.join(WEB_DIR, '.build-lock');
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 200_000) fs.rmSync(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    await build();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}
