import '../../../test/helpers/pki.ts';
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { endPointHashName, gssChannelBindingsStruct, tlsServerEndPoint } from './channel-bindings.ts';
import { createTestPki, type TestPki } from '../../../test/helpers/pki.ts';

let pki: TestPki;
beforeAll(async () => { pki = await createTestPki(); });

describe('tls-server-end-point (RFC 5929 4.1)', () => {
  it.each([
    ['ok/ecdsa-sha256-uses-sha256', 'SHA-256', 'sha256'],
    ['ok/ecdsa-sha384-uses-sha384', 'SHA-384', 'sha384'],
    ['ok/ecdsa-sha512-uses-sha512', 'SHA-512', 'sha512'],
  ] as const)('%s', async (_name, hash, expected) => {
    const cert = await pki.issue({ dnsNames: ['ca.corp.example'], hash });
    expect(endPointHashName(cert.der)).toBe(expected);
  });

  it('ok/application-data-prefix-and-digest', async () => {
    const cert = await pki.issue({ dnsNames: ['ca.corp.example'] });
    expect(tlsServerEndPoint(cert.der).toString('hex')).toBe(Buffer.concat([Buffer.from('tls-server-end-point:'), createHash('sha256').update(cert.der).digest()]).toString('hex'));
  });

  it('ok/gss-struct-has-empty-addresses-then-length', () => {
    expect(gssChannelBindingsStruct(Buffer.from('abc')).toString('hex')).toBe(`${'00'.repeat(16)}03000000616263`);
  });

  it('fail/not-a-certificate', () => {
    expect(() => endPointHashName(Buffer.from('nope'))).toThrow();
  });
});
