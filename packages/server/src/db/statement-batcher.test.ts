import { describe, expect, it } from 'vitest';
import { createStatementBatcher } from './statement-batcher.ts';

describe('statement batcher', () => {
  it('ok/callers of one turn share a statement, callers during it wait for the next, answers stay in order', async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const double = createStatementBatcher(async (qs: number[]) => {
      batches.push(qs);
      if (batches.length === 1) await held;
      return qs.map((q) => q * 2);
    }, 100);
    const first = [double(1), double(2), double(3)];
    await new Promise((r) => setImmediate(r));
    const second = [double(4), double(5)];
    release();
    expect(await Promise.all([...first, ...second])).toEqual([2, 4, 6, 8, 10]);
    expect(batches).toEqual([[1, 2, 3], [4, 5]]);
  });

  it('fail/a failing statement rejects its own batch only; a batch holds at most maxBatch queries', async () => {
    const batches: string[][] = [];
    const upper = createStatementBatcher(async (qs: string[]) => {
      batches.push(qs);
      if (qs.includes('boom')) throw new Error('statement failed');
      return qs.map((q) => q.toUpperCase());
    }, 2);
    const answers = await Promise.allSettled(['a', 'boom', 'c', 'd', 'e'].map((q) => upper(q)));
    expect(answers.map((a) => (a.status === 'fulfilled' ? a.value : (a.reason as Error).message)))
      .toEqual(['statement failed', 'statement failed', 'C', 'D', 'E']);
    expect(batches).toEqual([['a', 'boom'], ['c', 'd'], ['e']]);
  });
});
