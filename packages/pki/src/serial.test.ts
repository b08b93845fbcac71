import { describe, expect, it } from 'vitest';
import { integerToSerialHex, randomSerial, serialHexToBytes, serialToInteger } from './serial.ts';
import { PkiError } from './errors.ts';

describe('serial', () => {
  it('ok/randomSerial: 600 serials (across pool refills) are 16 octets, positive, never leading-zero, all distinct', () => {
    const serials = Array.from({ length: 600 }, () => randomSerial());
    const shapes = new Set(serials.map((s) => `${s.length}:${(s[0] ?? 0) & 0xc0}`));
    expect([shapes, new Set(serials.map((s) => Buffer.from(s).toString('hex'))).size]).toEqual([new Set(['16:64']), 600]);
  });

  it.each([
    ['ok/high bit gets a zero byte', [0x80], [0x00, 0x80]],
    ['ok/leading zeros are stripped', [0, 0, 0x12], [0x12]],
  ])('%s', (_n, input, expected) => {
    expect([...serialToInteger(new Uint8Array(input))]).toEqual(expected);
  });

  it.each([
    ['ok/sign padding is not part of the hex', [0x00, 0x80, 0x01], '8001'],
    ['ok/single zero byte stays', [0x00], '00'],
  ])('%s', (_n, content, hex) => {
    expect(integerToSerialHex(new Uint8Array(content))).toBe(hex);
  });

  it.each([['ok/colons and 0x', '0x0A:0b', [0x0a, 0x0b]], ['ok/odd length', 'abc', [0x0a, 0xbc]]])('%s', (_n, hex, bytes) => {
    expect([...serialHexToBytes(hex)]).toEqual(bytes);
  });

  it('fail/not hex', () => {
    expect(() => serialHexToBytes('12g4')).toThrow(new PkiError('MALFORMED', 'serial "12g4" is not hex'));
  });
});
