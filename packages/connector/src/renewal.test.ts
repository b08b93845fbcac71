import { X509Certificate } from 'node:crypto';
import { generateKeyPair, parseDn, randomSerial, signCertificate, spkiOf, pemEncode } from '@certbridge/pki';
import { describe, expect, it } from 'vitest';
import { certifiesKey, renewalDue, renewalRequest } from './renewal.ts';

const DAY = 86_400_000;
const start = Date.UTC(2026, 0, 1);
const pair = generateKeyPair('EC-P256');
/** A 90-day certificate, as the Connector CA issues them. */
const cert = pemEncode('CERTIFICATE', signCertificate({
  serialNumber: randomSerial(), subject: parseDn('CN=renewal.test'), spkiDer: spkiOf(pair.publicKey),
  notBefore: new Date(start), notAfter: new Date(start + 90 * DAY), keyUsages: ['digitalSignature'],
}, { selfSigned: pair.privateKey }));

describe('renewalDue', () => {
  it.each([
    ['ok/fresh', 1, undefined, false],
    ['ok/just-before-the-last-third', 59, undefined, false],
    ['ok/in-the-last-third', 61, undefined, true],
    ['ok/expired', 91, undefined, true],
    ['ok/explicit-window', 1, 100 * DAY, true],
  ])('%s', (_name, day, before, expected) => {
    expect(renewalDue(cert, start + day * DAY, before)).toBe(expected);
  });
});

describe('renewalRequest / certifiesKey', () => {
  it('ok/new-key-each-time-and-only-its-certificate-is-accepted', () => {
    const a = renewalRequest('00000000-0000-0000-0000-000000000001');
    const b = renewalRequest('00000000-0000-0000-0000-000000000001');
    expect({ distinct: a.keyPem !== b.keyPem, csr: a.csrPem.startsWith('-----BEGIN CERTIFICATE REQUEST-----'), foreign: certifiesKey(cert, a.keyPem), own: certifiesKey(cert, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), parses: new X509Certificate(cert).subject })
      .toEqual({ distinct: true, csr: true, foreign: false, own: true, parses: 'CN=renewal.test' });
  });
});
