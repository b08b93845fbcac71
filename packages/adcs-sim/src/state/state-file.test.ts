import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readState } from './state-file.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'adcs-sim-state-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('readState', () => {
  it('ok/missing file → undefined (first start)', async () => {
    expect(await readState(join(dir, 'absent.json'))).toBeUndefined();
  });

  it.each([
    ['fail/truncated JSON', '{"version": 1, "ca": {', /state file is not valid JSON/],
    ['fail/random bytes', '\u0000\u00ff\u0010\u00fe binary', /state file is not valid JSON/],
    ['fail/wrong version', '{"version": 2, "ca": {}, "requests": {}}', /not an adcs-sim state file/],
    ['fail/JSON of another shape', '[1, 2, 3]', /not an adcs-sim state file/],
    [
      'fail/override that is not a valid template',
      JSON.stringify({ version: 1, ca: { root: { certificate: 'x' }, issuing: { certificate: 'y' } }, requests: { nextRequestId: 2, requests: [] }, overrides: { templates: [{ cn: '' }] } }),
      /invalid overrides/,
    ],
  ])('%s → clear error naming the file', async (name, content, message) => {
    const path = join(dir, `${name.replace(/\W/g, '_')}.json`);
    await writeFile(path, content);
    const err = await readState(path).then(() => undefined, (e: Error) => e.message);
    expect([message.test(err ?? ''), err?.startsWith(path)]).toEqual([true, true]);
  });
});
