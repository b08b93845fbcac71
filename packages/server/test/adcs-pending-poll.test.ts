/**
 * The background poll of pending ADCS orders (job `adcs-pending-poll`) with more orders due than
 * one batch: a run claims due orders batch after batch until none is left, never touches orders
 * not yet due, stops claiming when its time budget is spent, and two runs at once (two instances
 * on one database) never poll the same order twice.
 */
import type { AdcsSim } from '@certbridge/adcs-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAdcsCa, addAdcsProfile, addConnection, createAdcsEnv, csrPem, issue, startSim, type AdcsEnv } from './adcs-fixtures.ts';
import { ENGINES } from './helpers.ts';
import { pollDelayMs } from '../src/ca-backends/adcs/pending-schedule.ts';

const MINUTE = 60_000;

describe.each(ENGINES)('pending ADCS orders polled in batches on %s', (engine) => {
  let sim: AdcsSim;
  let env: AdcsEnv;
  let due: string[] = [];
  let later: string;

  /** next_poll_at of the given orders, by id. */
  const nextPolls = async (ids: string[]) => Object.fromEntries((await env.core.db.selectFrom('orders').select(['id', 'next_poll_at']).where('id', 'in', ids).execute())
    .map((r) => [r.id, r.next_poll_at?.getTime() ?? null]));

  beforeAll(async () => {
    sim = await startSim();
    env = await createAdcsEnv(engine);
    // No quick re-asks: each request is left pending for the background poll at once.
    const ca = await addAdcsCa(env, 'poll-ca', [await addConnection(env, sim, 'poll-conn')], { quickRetries: 0 });
    await addAdcsProfile(env, 'poll-approval', ca, 'ManagerApproval');
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await issue(env, { profile: 'poll-approval', csr: csrPem(`poll${i}.corp.example.test`) });
      if (res.statusCode !== 202) throw new Error(`issuance ${i}: ${res.statusCode} ${res.body}`);
      ids.push(res.json().order.id);
    }
    due = ids.slice(0, 5);
    later = ids[5]!;
    await env.core.db.updateTable('orders').set({ next_poll_at: new Date(env.clock.now().getTime() + 30 * MINUTE) }).where('id', '=', later).execute();
  });
  afterAll(async () => {
    await env?.close();
    await sim?.stop();
  });

  it('ok/one-run-polls-every-due-order-batch-after-batch-and-leaves-the-others', async () => {
    env.clock.advance(2 * MINUTE);
    const laterBefore = await nextPolls([later]);
    const run = await env.core.adcs.pending.runDue({ batch: 2 });
    const now = env.clock.now().getTime();
    // Each order was polled once (attempts 1 at submission → the first background delay).
    expect({ polled: run.polled, steps: run.steps.map((s) => [s.order.id, s.status]).sort(), next: await nextPolls(due), later: await nextPolls([later]) }).toEqual({
      polled: 5, steps: due.map((id) => [id, 'pending']).sort(), next: Object.fromEntries(due.map((id) => [id, now + pollDelayMs(1)])), later: laterBefore,
    });
  });

  it('ok/a-run-stops-claiming-when-its-time-budget-is-spent', async () => {
    env.clock.advance(pollDelayMs(1));
    const run = await env.core.adcs.pending.runDue({ batch: 2, budgetMs: 0 });
    const stillDue = await env.core.db.selectFrom('orders').select('id').where('id', 'in', due).where('next_poll_at', '<=', env.clock.now()).execute();
    // The first batch is always polled; the other three wait for the next run.
    expect({ polled: run.polled, stillDue: stillDue.length }).toEqual({ polled: 2, stillDue: 3 });
    expect((await env.core.adcs.pending.runDue({ batch: 2 })).polled).toBe(3);
  });

  it('ok/two-runs-at-once-never-poll-one-order-twice', async () => {
    env.clock.advance(30 * MINUTE);
    const other = await env.restart();
    const requestsBefore = sim.listRequests().length;
    const runs = await Promise.all([env.core.adcs.pending.runDue({ batch: 1 }), other.core.adcs.pending.runDue({ batch: 1 })]);
    const polledIds = runs.flatMap((r) => r.steps.map((s) => s.order.id)).sort();
    // `later` is due now too: six orders, each polled by exactly one of the two runs.
    expect({ polledIds, total: runs[0]!.polled + runs[1]!.polled, newRequestsAtCa: sim.listRequests().length - requestsBefore })
      .toEqual({ polledIds: [...due, later].sort(), total: 6, newRequestsAtCa: 0 });
  });
});
