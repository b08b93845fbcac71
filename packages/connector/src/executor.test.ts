import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAdcsSim, type AdcsSim } from '@certbridge/adcs-sim';
import { buildCsr, generateKeyPair, parseDn, pemEncode } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobExecutor } from './executor.ts';
import type { JobAnswer } from './handlers.ts';
import { createJournal } from './journal.ts';
import type { AdcsOptionsWire, JobSpec } from './protocol.ts';

const PASSWORD = 'Passw0rd!';

function submitJob(cn: string): JobSpec {
  const pair = generateKeyPair('EC-P256');
  return { kind: 'submit', csrPem: pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn(`CN=${cn}`), privateKey: pair.privateKey, publicKey: pair.publicKey })), template: 'WebServer' };
}

/** An executor over `dir` whose answers are collected; `settled` resolves after `n` answers. */
function executorOver(dir: string) {
  const answers: { id: string; outcome: JobAnswer }[] = [];
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  const ex = createJobExecutor({ stateDir: dir, log: (l) => lines.push(l), answer: (id, outcome) => (answers.push({ id, outcome }), waiters.splice(0).forEach((w) => w()), true) });
  const settled = async (n: number) => {
    while (answers.length < n) await new Promise<void>((r) => waiters.push(r));
  };
  return { ex, answers, lines, settled };
}

describe('connector job executor (journal, idempotency)', () => {
  let sim: AdcsSim;
  let adcs: AdcsOptionsWire;
  let dir: string;

  beforeAll(async () => {
    sim = await startAdcsSim({
      host: 'localhost', port: 0, domain: 'CORP', adminToken: 'connector-executor-test-token-0123456789',
      users: [{ name: 'alice', password: PASSWORD }], templates: [{ cn: 'WebServer', displayName: 'Web Server', enroll: ['alice'] }], auth: { basic: true, ntlm: false },
    });
    adcs = { baseUrl: sim.url, username: 'alice', password: PASSWORD, domain: 'CORP', auth: 'basic', ca: sim.tlsCaPem, timeoutMs: 5000 };
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'connector-executor-'));
  });
  afterAll(async () => {
    await sim?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ok/re-delivered-job-is-answered-from-the-journal-after-a-restart-without-a-second-submission', async () => {
    const id = randomUUID();
    const job = submitJob('journal.replay.test');
    const first = executorOver(dir);
    first.ex.run(id, job, adcs);
    await first.settled(1);
    await first.ex.close();
    const before = sim.listRequests().length;
    // A new process over the same state directory receives the same job id again.
    const second = executorOver(dir);
    second.ex.run(id, job, adcs);
    await second.settled(1);
    await second.ex.close();
    expect({ same: second.answers[0]?.outcome, newRequests: sim.listRequests().length - before, logged: second.lines.some((l) => l.includes('answered from the journal')), mode: fs.statSync(path.join(dir, 'journal', `${id}.json`)).mode & 0o777 })
      .toEqual({ same: first.answers[0]?.outcome, newRequests: 0, logged: true, mode: 0o600 });
  });

  it('ok/closing-waits-for-a-running-job-so-its-answer-is-journaled-and-a-redelivery-submits-nothing', async () => {
    const id = randomUUID();
    const job = submitJob('journal.close.test');
    const before = sim.listRequests().length;
    const stopping = executorOver(dir);
    stopping.ex.run(id, job, adcs);
    // Closed at once (as a connector stopped by SIGTERM): the submission to ADCS is under way.
    await stopping.ex.close();
    const journaled = (await createJournal(dir).read(id))?.answer;
    const restarted = executorOver(dir);
    restarted.ex.run(id, job, adcs);
    await restarted.settled(1);
    await restarted.ex.close();
    expect({ journaled: journaled?.ok, redelivered: restarted.answers[0]?.outcome, requests: sim.listRequests().length - before })
      .toEqual({ journaled: true, redelivered: journaled, requests: 1 });
  });

  it('ok/job-interrupted-mid-way-runs-again-and-its-answer-says-so', async () => {
    const id = randomUUID();
    // What a kill -9 during the ADCS round trip leaves: "started", no answer.
    await createJournal(dir).started(id, 'submit');
    const before = sim.listRequests().length;
    const run = executorOver(dir);
    run.ex.run(id, submitJob('journal.interrupted.test'), adcs);
    await run.settled(1);
    await run.ex.close();
    const outcome = run.answers[0]?.outcome;
    const result = outcome?.ok ? (outcome.result as { status: string; warning?: string }) : undefined;
    expect({ status: result?.status, warning: result?.warning, newRequests: sim.listRequests().length - before, recorded: Boolean((await createJournal(dir).read(id))?.answer) })
      .toEqual({ status: 'issued', warning: expect.stringContaining('interrupted while running this job'), newRequests: 1, recorded: true });
  });

  it('ok/job-delivered-twice-while-running-is-run-once', async () => {
    await sim.setFaults({ latencyMs: 400 });
    const id = randomUUID();
    const job = submitJob('journal.twice.test');
    const before = sim.listRequests().length;
    const run = executorOver(dir);
    run.ex.run(id, job, adcs);
    run.ex.run(id, job, adcs);
    await run.settled(1);
    await sim.clearFaults();
    await run.ex.close();
    expect({ answers: run.answers.length, newRequests: sim.listRequests().length - before, logged: run.lines.some((l) => l.includes('delivered again while running')) })
      .toEqual({ answers: 1, newRequests: 1, logged: true });
  });
});
