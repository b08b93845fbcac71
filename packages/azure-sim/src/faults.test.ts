/** Fault injection: which requests a fault hits, how often, and what the call log keeps. */
import { describe, expect, it } from 'vitest';
import { FaultInjector } from './faults.ts';

describe('FaultInjector', () => {
  it('ok/a fault applies to exactly `count` matching requests, in order of injection', () => {
    const f = new FaultInjector();
    f.inject({ service: 'vault', status: 429, count: 2, retryAfterSeconds: 5 });
    f.inject({ service: 'all', status: 503 });
    expect([f.take('vault', '/certificates'), f.take('vault', '/certificates'), f.take('vault', '/certificates'), f.take('vault', '/certificates')]).toEqual([
      { status: 429, retryAfterSeconds: 5, latencyMs: 0 },
      { status: 429, retryAfterSeconds: 5, latencyMs: 0 },
      { status: 503, retryAfterSeconds: 1, latencyMs: 0 },
      undefined,
    ]);
  });

  it('ok/service and path filters leave other requests alone', () => {
    const f = new FaultInjector();
    f.inject({ service: 'entra', status: 503, pathContains: '/oauth2/v2.0/token' });
    expect([f.take('graph', '/oauth2/v2.0/token'), f.take('entra', '/t/v2.0/.well-known/openid-configuration')]).toEqual([undefined, undefined]);
    expect(f.take('entra', '/t/oauth2/v2.0/token')?.status).toBe(503);
  });

  it('ok/latency-only faults carry no status', () => {
    const f = new FaultInjector();
    f.inject({ latencyMs: 250 });
    expect(f.take('graph', '/v1.0/me')).toEqual({ status: undefined, retryAfterSeconds: 1, latencyMs: 250 });
  });

  it.each([
    ['fail/count of zero', { status: 503 as const, count: 0 }, 'fault count must be a positive integer'],
    ['fail/neither status nor latency', {}, 'a fault needs a status or a latency'],
  ])('%s', (_name, spec, message) => {
    expect(() => new FaultInjector().inject(spec)).toThrow(new RangeError(message));
  });

  it('ok/calls() filters by service and returns copies; clearCalls() empties the log', () => {
    const f = new FaultInjector();
    const call = { method: 'GET', path: '/v1.0/me', query: { a: '1' }, status: 200, faulted: false, at: '2026-11-22T12:00:00.000Z' };
    f.record({ service: 'graph', ...call });
    f.record({ service: 'vault', ...call, path: '/certificates' });
    const graphCalls = f.calls('graph');
    graphCalls[0].query.a = 'changed';
    expect(f.calls('graph')).toEqual([{ service: 'graph', ...call }]);
    expect(f.calls().map((c) => c.service)).toEqual(['graph', 'vault']);
    f.clearCalls();
    expect(f.calls()).toEqual([]);
  });
});
