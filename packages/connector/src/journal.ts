import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { JobAnswer } from './handlers.ts';

/** Answers are kept this long: a server that lost one re-delivers the job well within it. */
export const JOURNAL_RETENTION_MS = 24 * 3_600_000;
const DIR = 'journal';

const entry = z.object({
  id: z.string().uuid(),
  kind: z.string(),
  startedAt: z.string(),
  /** Set once the job ran to its end; absent when the process died in between. */
  answer: z.unknown().optional(),
  finishedAt: z.string().optional(),
});
export type JournalEntry = z.infer<typeof entry> & { answer?: JobAnswer };

/**
 * The connector's record of jobs, one file per job id under `<state dir>/journal/` (mode 0600),
 * written before the job touches ADCS and again, with the answer, before the answer is sent. A
 * job the server delivers again (its socket or the server died before the answer arrived) is
 * answered from here instead of being submitted to ADCS a second time; a job whose record has
 * no answer was interrupted mid-way, which the runner reports in its answer. Writes go to a
 * temporary file renamed into place, so a kill -9 leaves either the old or the new record.
 */
export function createJournal(stateDir: string, now: () => number = Date.now) {
  const dir = path.join(stateDir, DIR);
  const file = (id: string) => path.join(dir, `${id}.json`);

  async function write(e: JournalEntry): Promise<void> {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file(e.id)}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(e), { mode: 0o600 });
    await fs.rename(tmp, file(e.id));
  }

  return {
    async read(id: string): Promise<JournalEntry | undefined> {
      let raw: string;
      try {
        raw = await fs.readFile(file(id), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      const parsed = entry.safeParse(JSON.parse(raw));
      return parsed.success ? (parsed.data as JournalEntry) : undefined;
    },
    started: (id: string, kind: string) => write({ id, kind, startedAt: new Date(now()).toISOString() }),
    finished: (e: JournalEntry, answer: JobAnswer) => write({ ...e, answer, finishedAt: new Date(now()).toISOString() }),
    /** Removes records older than the retention; returns how many. */
    async prune(): Promise<number> {
      let names: string[];
      try {
        names = await fs.readdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
        throw err;
      }
      let removed = 0;
      for (const name of names) {
        const stat = await fs.stat(path.join(dir, name)).catch(() => undefined);
        if (stat && now() - stat.mtimeMs > JOURNAL_RETENTION_MS) {
          await fs.rm(path.join(dir, name), { force: true });
          removed++;
        }
      }
      return removed;
    },
  };
}

export type Journal = ReturnType<typeof createJournal>;
