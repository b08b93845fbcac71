import { describe, expect, it } from 'vitest';
import { md4 } from './md4.ts';

// RFC 1320 appendix A.5 test suite.
const vectors: Array<[string, string, string]> = [
  ['ok/empty', '', '31d6cfe0d16ae931b73c59d7e0c089c0'],
  ['ok/a', 'a', 'bde52cb31de33e46245e05fbdbd6fb24'],
  ['ok/abc', 'abc', 'a448017aaf21d8525fc10ae87aa6729d'],
  ['ok/message digest', 'message digest', 'd9130a8164549fe818874806e1c7014b'],
  ['ok/alphabet', 'abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
  ['ok/alphanumeric', 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
  ['ok/digits (two blocks)', '12345678901234567890123456789012345678901234567890123456789012345678901234567890', 'e33b4ddc9c38f2199c3e7b164fcc0536'],
];

describe('md4 (RFC 1320)', () => {
  it.each(vectors)('%s', (_n, input, hex) => {
    expect(md4(Buffer.from(input, 'latin1')).toString('hex')).toBe(hex);
  });

  it('ok/NT hash of "Password" ([MS-NLMP] 4.2.4.1.1 ResponseKeyNT input)', () => {
    expect(md4(Buffer.from('Password', 'utf16le')).toString('hex')).toBe('a4f49c406510bdcab6824ee7c30fd852');
  });

  it('fail/one changed byte changes the digest', () => {
    expect(md4(Buffer.from('abd', 'latin1')).toString('hex')).not.toBe('a448017aaf21d8525fc10ae87aa6729d');
  });
});
