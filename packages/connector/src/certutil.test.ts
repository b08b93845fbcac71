import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { certutilOptions, NEEDS_WINDOWS } from './certutil.ts';
import { createJobHandlers } from './handlers.ts';

/** A stand-in for certutil.exe: records its arguments (one per line) and exits with $EXIT_STATUS. */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certutil-'));
const recorded = path.join(dir, 'args.txt');
const standIn = path.join(dir, 'certutil');
fs.writeFileSync(standIn, `#!/bin/sh\nprintf '%s\\n' "$@" > '${recorded}'\necho "CertUtil: -revoke command completed"\nexit \${EXIT_STATUS:-0}\n`, { mode: 0o755 });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const job = { kind: 'revoke' as const, config: 'ca01.corp.example\\Corp Issuing CA', serialHex: '1a2b3c', reason: 1 };

describe('revoke job through certutil', () => {
  it('ok/stand-in-receives-config-serial-reason-as-separate-arguments', async () => {
    fs.rmSync(recorded, { force: true });
    const handlers = createJobHandlers({ certutil: certutilOptions({ CERTBRIDGE_CONNECTOR_CERTUTIL: standIn, CERTBRIDGE_CONNECTOR_CERTUTIL_ANY_PLATFORM: '1' }, 'linux') });
    expect(await handlers.handle(job, undefined)).toEqual({ ok: true, result: { revoked: true, serialHex: '1a2b3c', config: 'ca01.corp.example\\Corp Issuing CA', reason: 1 } });
    expect(fs.readFileSync(recorded, 'utf8')).toBe('-config\nca01.corp.example\\Corp Issuing CA\n-revoke\n1a2b3c\n1\n');
  });

  it('fail/non-zero-exit-is-retryable-with-status-and-output', async () => {
    process.env['EXIT_STATUS'] = '5';
    try {
      const handlers = createJobHandlers({ certutil: certutilOptions({ CERTBRIDGE_CONNECTOR_CERTUTIL: standIn, CERTBRIDGE_CONNECTOR_CERTUTIL_ANY_PLATFORM: '1' }, 'linux') });
      expect(await handlers.handle(job, undefined)).toEqual({ ok: false, error: {
        message: 'certutil -config "ca01.corp.example\\Corp Issuing CA" -revoke 1a2b3c 1 exited with status 5: CertUtil: -revoke command completed', retryable: true,
      } });
    } finally {
      delete process.env['EXIT_STATUS'];
    }
  });

  it('fail/not-windows-says-it-needs-a-windows-connector', async () => {
    fs.rmSync(recorded, { force: true });
    const handlers = createJobHandlers({ certutil: certutilOptions({ CERTBRIDGE_CONNECTOR_CERTUTIL: standIn }, 'linux') });
    expect(await handlers.handle(job, undefined)).toEqual({ ok: false, error: { message: NEEDS_WINDOWS, retryable: false } });
    expect(fs.existsSync(recorded)).toBe(false);
  });

  it('ok/windows-runs-certutil-by-default', () => {
    expect(certutilOptions({}, 'win32')).toEqual({ path: 'certutil', allowed: true, timeoutMs: 60_000 });
  });
});
