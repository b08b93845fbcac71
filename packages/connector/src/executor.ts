import type { AdcsOptionsWire, JobSpec } from './protocol.ts';
import { certutilOptions } from './certutil.ts';
import { createJobHandlers, type JobAnswer } from './handlers.ts';
import { createJournal } from './journal.ts';

/** Job kinds that create a request at ADCS: running one twice may leave two requests there. */
const SUBMITS = new Set<JobSpec['kind']>(['submit', 'enroll-keygen']);

const interruptedWarning = (startedAt: string) =>
  `the connector was interrupted while running this job (started ${startedAt}) and ran it again; ADCS may hold an earlier request for it`;

/**
 * Runs each job id at most once to completion: the journal is written before ADCS is asked and
 * again, with the answer, before the answer is sent. A job delivered again is answered from the
 * journal; one still running here is not started twice (its answer goes out on whichever socket
 * is open when it ends); one the journal shows started but unanswered (the process was killed
 * mid-job) runs again and says so in its answer, so the server records that ADCS may hold an
 * earlier request.
 */
export function createJobExecutor(deps: { stateDir: string; log: (line: string) => void; answer: (id: string, outcome: JobAnswer) => boolean; env?: NodeJS.ProcessEnv }) {
  const { log } = deps;
  const handlers = createJobHandlers({ certutil: certutilOptions(deps.env ?? process.env) });
  const journal = createJournal(deps.stateDir);
  const running = new Map<string, Promise<JobAnswer>>();
  const prune = () => journal.prune().then((n) => n && log(`journal: ${n} record(s) past retention removed`), (err: Error) => log(`journal pruning failed: ${err.message}`));
  void prune();
  const pruneTimer = setInterval(() => void prune(), 3_600_000);
  pruneTimer.unref();

  async function execute(id: string, job: JobSpec, adcs: AdcsOptionsWire | undefined): Promise<JobAnswer> {
    const record = await journal.read(id);
    if (record?.answer) {
      log(`job ${id} answered from the journal (it ran at ${record.finishedAt ?? record.startedAt})`);
      return record.answer;
    }
    if (!record) await journal.started(id, job.kind);
    const entry = record ?? { id, kind: job.kind, startedAt: new Date().toISOString() };
    let answer = await handlers.handle(job, adcs);
    if (record && SUBMITS.has(job.kind)) {
      log(`job ${id} had been interrupted mid-way and was run again`);
      if (answer.ok && typeof answer.result === 'object' && answer.result !== null) answer = { ok: true, result: { ...answer.result, warning: interruptedWarning(record.startedAt) } };
    }
    await journal.finished(entry, answer);
    return answer;
  }

  return {
    run(id: string, job: JobSpec, adcs: AdcsOptionsWire | undefined): void {
      if (running.has(id)) return log(`job ${id} delivered again while running; its answer goes to the current connection`);
      log(`job ${id} ${job.kind}`);
      const done = execute(id, job, adcs).catch((err: unknown): JobAnswer => ({
        ok: false, error: { message: `the connector could not run the job: ${err instanceof Error ? err.message : String(err)}`.slice(0, 4000), retryable: true },
      }));
      running.set(id, done);
      void done.then((answer) => {
        running.delete(id);
        log(`job ${id} ${answer.ok ? 'done' : `failed: ${answer.error.message}`}`);
        if (!deps.answer(id, answer)) log(`job ${id}: not connected; the answer waits in the journal until the server delivers the job again`);
      });
    },
    /**
     * Stops after the jobs still running here end (each is bounded by its ADCS timeout): their
     * answers reach the journal, so a job the server delivers again after a restart is answered
     * from it instead of being submitted to ADCS a second time.
     */
    async close(): Promise<void> {
      clearInterval(pruneTimer);
      await Promise.allSettled([...running.values()]);
      await handlers.close();
    },
  };
}
