import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digest } from './digest.ts';

describe('digest', () => {
  it.each([
    // FIPS 180-2 appendix B.1 / A.1 test vectors for "abc".
    ['ok/sha256 of "abc" (FIPS 180-2)', 'sha256', 'abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['ok/sha1 of "abc" (FIPS 180-2)', 'sha1', 'abc', 'a9993e364706816aba3e25717850c26c9cd0d89d'],
    ['ok/a string is hashed as UTF-8', 'sha256', 'Zoë', createHash('sha256').update(Buffer.from('Zoë', 'utf8')).digest('hex')],
  ])('%s', (_name, algorithm, input, hex) => {
    expect(digest(algorithm, input, 'hex')).toBe(hex);
  });

  it.each(['hex', 'base64', 'base64url'] as const)('ok/bytes in %s, and as a Buffer, equal createHash', (encoding) => {
    const bytes = randomBytes(700).subarray(3, 650);
    expect(digest('sha256', bytes, encoding)).toBe(createHash('sha256').update(bytes).digest(encoding));
    expect(digest('sha256', bytes).equals(createHash('sha256').update(bytes).digest())).toBe(true);
  });

  it('fail/an unknown algorithm throws', () => {
    expect(() => digest('no-such-hash', 'x')).toThrow();
  });
});
