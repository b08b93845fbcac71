import { describe, expect, it } from 'vitest';
import { FaultInjector, faultsSchema } from './faults.ts';

describe('FaultInjector', () => {
  it('ok/page-limits-faults-and-only-matching-requests-use-up-the-count', () => {
    const f = new FaultInjector();
    f.set({ reset: true, page: 'certfnsh.asp', count: 1 });
    expect([f.next('certrqxt.asp'), f.next('CERTFNSH.ASP'), f.next('certfnsh.asp')].map((a) => a.kind)).toEqual(['none', 'reset', 'none']);
  });

  it('ok/lose-answer-acts-after-handling-never-before', () => {
    const f = new FaultInjector();
    f.set({ loseAnswer: true, page: 'certnew.cer', count: 2 });
    expect(f.next('certnew.cer').kind).toBe('none');
    expect([f.loseAnswer('certfnsh.asp'), f.loseAnswer('certnew.cer'), f.loseAnswer('certnew.cer'), f.loseAnswer('certnew.cer')]).toEqual([false, true, true, false]);
    expect(f.current).toMatchObject({ loseAnswer: false, count: undefined });
  });

  it('ok/without-count-a-fault-stays-until-cleared', () => {
    const f = new FaultInjector();
    f.set({ loseAnswer: true });
    expect(Array.from({ length: 5 }, () => f.loseAnswer('certfnsh.asp'))).toEqual([true, true, true, true, true]);
    f.set({});
    expect(f.loseAnswer('certfnsh.asp')).toBe(false);
  });

  it.each([
    ['fail/empty-page', { page: '' }],
    ['fail/lose-answer-not-a-boolean', { loseAnswer: 'yes' }],
    ['fail/zero-count', { loseAnswer: true, count: 0 }],
  ])('%s', (_name, input) => {
    expect(faultsSchema.safeParse(input).success).toBe(false);
  });
});
