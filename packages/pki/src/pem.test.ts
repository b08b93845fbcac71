import { describe, expect, it } from 'vitest';
import { pemDecode, pemDecodeAll, pemEncode, toDer } from './pem.ts';
import { PkiError } from './errors.ts';

const bytes = new Uint8Array(Array.from({ length: 100 }, (_, i) => i));
const pem = pemEncode('CERTIFICATE', bytes);
const other = pemEncode('X509 CRL', new Uint8Array([0x30, 0x00]));

describe('pem', () => {
  it('ok/encode writes 64-column lines and a trailing newline', () => {
    expect(pem.split('\n').map((l) => l.length)).toEqual([27, 64, 64, 8, 25, 0]);
  });

  it.each([
    ['ok/plain', pem, undefined, bytes],
    ['ok/CRLF and indentation', pem.replace(/\n/g, '\r\n  '), undefined, bytes],
    ['ok/explanatory text before the block', `Subject: x\n${pem}`, undefined, bytes],
    ['ok/label filter skips other blocks', other + pem, 'CERTIFICATE', bytes],
  ])('%s', (_name, text, label, expected) => {
    expect(pemDecode(text, label)).toEqual(expected);
  });

  it('ok/decodeAll returns every block of the label in order', () => {
    expect(pemDecodeAll(pem + other + pem, 'CERTIFICATE')).toEqual([bytes, bytes]);
  });

  it.each([
    ['fail/no block', 'hello', undefined, 'MALFORMED', 'no PEM block found'],
    ['fail/missing label', other, 'CERTIFICATE', 'MALFORMED', 'no PEM block labelled "CERTIFICATE"'],
    ['fail/bad base64', '-----BEGIN X-----\n!!!!\n-----END X-----\n', undefined, 'MALFORMED', 'PEM block "X": not valid base64'],
    ['fail/legacy encrypted key headers', '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n', undefined,
      'UNSUPPORTED', 'PEM block "RSA PRIVATE KEY" has RFC 1421 headers (legacy encrypted key)'],
  ] as const)('%s', (_name, text, label, code, message) => {
    expect(() => pemDecode(text, label)).toThrow(new PkiError(code, message));
  });

  it.each([
    ['ok/DER passes through', new Uint8Array([0x30, 0x01, 0x00]), [0x30, 0x01, 0x00]],
    ['ok/bare base64', 'MAEA', [0x30, 0x01, 0x00]],
    ['ok/PEM bytes', new TextEncoder().encode(pemEncode('CERTIFICATE', new Uint8Array([0x30, 0x00]))), [0x30, 0x00]],
  ])('%s (toDer)', (_name, input, expected) => {
    expect([...toDer(input, ['CERTIFICATE'], 'thing')]).toEqual(expected);
  });

  it.each([
    ['fail/empty string', '', 'thing: empty input'],
    ['fail/random bytes', new Uint8Array([0xff, 0x00, 0x13]), 'thing: not valid base64'],
    ['fail/wrong PEM label', other, 'thing: no PEM block labelled "CERTIFICATE"'],
  ])('%s (toDer)', (_name, input, message) => {
    expect(() => toDer(input, ['CERTIFICATE'], 'thing')).toThrow(message);
  });
});
