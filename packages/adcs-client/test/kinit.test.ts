import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TicketCache } from '../src/auth/kinit.ts';
import { isAdcsError } from '../src/errors.ts';

/** kinit's process handling, with stand-in kinit programs (the real one runs in kerberos.test.ts). */
describe('kinit', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'certbridge-kinit-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fail/a kinit that exits before reading the password is its own error, not an uncaught EPIPE on its stdin', async () => {
    // As kinit does when no KDC answers: it never reads the password. The password is larger than a
    // pipe's buffer, so writing it must outlive the closed stdin and fail with EPIPE.
    const fake = path.join(dir, 'kinit-no-kdc');
    await writeFile(fake, '#!/bin/sh\nexec 0<&-\nsleep 0.2\necho "kinit: Cannot contact any KDC for realm \'CORP.TEST\' while getting initial credentials" >&2\nexit 1\n');
    await chmod(fake, 0o755);
    const epipes: unknown[] = [];
    const onUncaught = (err: unknown) => void epipes.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      const tickets = new TicketCache({ username: 'alice', password: 'x'.repeat(1 << 20), realm: 'CORP.TEST', kinitPath: fake });
      const err = await tickets.ensure().catch((e: unknown) => e);
      await tickets.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect([isAdcsError(err) && err.code, isAdcsError(err) && err.message.includes('Cannot contact any KDC'), epipes]).toEqual(['ADCS_UNAVAILABLE', true, []]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
