import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { connectorMessage, decodeFrame, MAX_MESSAGE_BYTES } from './protocol.ts';

const id = randomUUID();

describe('decodeFrame(connectorMessage)', () => {
  it.each([
    ['ok/hello', { v: 1, type: 'hello', version: '0.1.0' }],
    ['ok/heartbeat', { v: 1, type: 'heartbeat', at: new Date().toISOString() }],
    ['ok/result', { v: 1, type: 'result', id, outcome: { ok: true, result: { status: 'pending', requestId: 3, dispositionMessage: 'Taken Under Submission' } } }],
    ['ok/failure', { v: 1, type: 'result', id, outcome: { ok: false, error: { message: 'refused', retryable: true } } }],
  ])('%s', (_name, message) => {
    expect(decodeFrame(connectorMessage, JSON.stringify(message)).ok).toBe(true);
  });

  it.each([
    ['fail/not-json', '{nope', 'message is not JSON'],
    ['fail/wrong-version', JSON.stringify({ v: 2, type: 'hello', version: 'x' }), 'does not match protocol v1'],
    ['fail/unknown-type', JSON.stringify({ v: 1, type: 'shell', command: 'rm -rf /' }), 'does not match protocol v1'],
    ['fail/result-without-id', JSON.stringify({ v: 1, type: 'result', outcome: { ok: true, result: 1 } }), 'does not match protocol v1'],
    ['fail/oversized', JSON.stringify({ v: 1, type: 'hello', version: 'x'.repeat(MAX_MESSAGE_BYTES) }), 'exceeds the'],
  ])('%s', (_name, frame, reason) => {
    const parsed = decodeFrame(connectorMessage, frame);
    expect(parsed.ok ? '' : parsed.reason).toContain(reason);
  });
});
