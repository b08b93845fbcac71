import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SealError, createSealer, loadMasterKey } from './sealer.ts';

describe('sealer', () => {
  const key = randomBytes(32);
  const sealer = createSealer(key);

  it('ok/round trip with the same context', () => {
    expect(sealer.openText(sealer.seal('s3cret', 'ctx:a'), 'ctx:a')).toBe('s3cret');
  });

  it('ok/two seals of one value differ (fresh nonce per record)', () => {
    expect(sealer.seal('same', 'c')).not.toBe(sealer.seal('same', 'c'));
  });

  it('ok/the sealed text carries the key id and no plaintext', () => {
    const sealed = sealer.seal('very-secret-value', 'c');
    expect(sealed.split('.').slice(0, 2)).toEqual(['v1', sealer.keyId]);
    expect(sealed).not.toContain('very-secret-value');
    expect(sealed).not.toContain(Buffer.from('very-secret-value').toString('base64url'));
  });

  it.each([
    ['fail/another context', (s: string) => sealer.open(s, 'ctx:b')],
    ['fail/another key', (s: string) => createSealer(randomBytes(32)).open(s, 'ctx:a')],
    ['fail/tampered ciphertext', (s: string) => { const p = s.split('.'); p[3] = p[3]!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')); return sealer.open(p.join('.'), 'ctx:a'); }],
    ['fail/not a sealed value', () => sealer.open('plain text', 'ctx:a')],
  ])('%s', (_n, open) => {
    const sealed = sealer.seal('s3cret', 'ctx:a');
    expect(() => open(sealed)).toThrow(SealError);
  });

  it('fail/a master key of the wrong size is refused', () => {
    expect(() => createSealer(randomBytes(16))).toThrow(SealError);
  });
});

describe('loadMasterKey', () => {
  it('ok/creates <data>/master.key with mode 0600 once and reuses it', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cb-key-'));
    const first = await loadMasterKey(undefined, dir);
    const second = await loadMasterKey(undefined, dir);
    expect(second.equals(first)).toBe(true);
    expect((await fs.stat(path.join(dir, 'master.key'))).mode & 0o777).toBe(0o600);
    await fs.rm(dir, { recursive: true });
  });

  it('fail/CERTBRIDGE_MASTER_KEY that is not 32 bytes', async () => {
    await expect(loadMasterKey(Buffer.alloc(31).toString('base64'), '/nonexistent')).rejects.toThrow(SealError);
  });
});
