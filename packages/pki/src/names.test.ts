import { afterAll, describe, expect, it } from 'vitest';
import { formatDn, parseDn, type DistinguishedName } from './names.ts';
import { PkiError } from './errors.ts';
import { makeIssued, makeRoot, openssl, workdir } from './test-helpers.ts';
import { parseCertificate } from './certificate.ts';

const wd = workdir();
afterAll(() => wd.cleanup());

const a = (type: string, oid: string, value: string) => ({ type, oid, value });

describe('names', () => {
  it.each<[string, string, DistinguishedName]>([
    ['ok/simple', 'CN=a,O=b', [a('CN', '2.5.4.3', 'a'), a('O', '2.5.4.10', 'b')]],
    ['ok/spaces and lower-case types', ' cn = host.example , ou=Ops ', [a('CN', '2.5.4.3', 'host.example'), a('OU', '2.5.4.11', 'Ops')]],
    ['ok/escaped comma and plus', 'CN=Smith\\, John\\+1,O=x', [a('CN', '2.5.4.3', 'Smith, John+1'), a('O', '2.5.4.10', 'x')]],
    ['ok/hex-escaped UTF-8', 'CN=Lu\\C4\\8Di\\C4\\87', [a('CN', '2.5.4.3', 'Lučić')]],
    ['ok/multi-valued RDN flattened', 'CN=a+UID=u1', [a('CN', '2.5.4.3', 'a'), a('UID', '0.9.2342.19200300.100.1.1', 'u1')]],
    ['ok/E, DC, SERIALNUMBER, dotted OID', 'E=a@b.c,DC=corp,SERIALNUMBER=42,2.5.4.97=VATDE-1',
      [a('E', '1.2.840.113549.1.9.1', 'a@b.c'), a('DC', '0.9.2342.19200300.100.1.25', 'corp'), a('SERIALNUMBER', '2.5.4.5', '42'), a('2.5.4.97', '2.5.4.97', 'VATDE-1')]],
  ])('%s', (_n, text, expected) => {
    expect(parseDn(text)).toEqual(expected);
  });

  it.each([
    ['fail/empty', '', new PkiError('MALFORMED', 'empty distinguished name')],
    ['fail/no equals', 'CN', new PkiError('MALFORMED', 'distinguished name part "CN" has no TYPE=value')],
    ['fail/unknown type', 'FOO=bar', new PkiError('UNSUPPORTED', 'unknown name attribute type "FOO"')],
    ['fail/empty value', 'CN=', new PkiError('MALFORMED', 'CN: empty value')],
    ['fail/dangling escape', 'CN=a\\', new PkiError('MALFORMED', 'CN: bad escape in DN value')],
    ['fail/hex form', 'CN=#0403616263', new PkiError('UNSUPPORTED', 'CN: hex-encoded (#) values are not supported')],
  ])('%s', (_n, text, error) => {
    expect(() => parseDn(text)).toThrow(error);
  });

  it.each([
    ['ok/format escapes specials', [a('CN', '2.5.4.3', 'Smith, John'), a('O', '2.5.4.10', '#1 "Co"')], 'CN=Smith\\, John, O=\\#1 \\"Co\\"'],
    ['ok/format round trip', parseDn('CN=x\\+y,OU=a\\;b,C=DE'), 'CN=x\\+y, OU=a\\;b, C=DE'],
  ])('%s', (_n, dn, expected) => {
    expect(formatDn(dn)).toBe(expected);
  });

  // RFC 4514 order: what parseDn reads is what `openssl -nameopt RFC2253` prints for the issued certificate.
  it('ok/certificate subject matches openssl RFC 2253 output', () => {
    const root = makeRoot();
    const leaf = makeIssued(root, 'EC-P256', { subject: parseDn('CN=host.example,OU=Web,O=Acme\\, Inc.,L=Zürich,C=CH') });
    const file = wd.write('leaf.pem', leaf.pem);
    const out = openssl(['x509', '-in', file, '-noout', '-subject', '-nameopt', 'RFC2253,-esc_msb']);
    expect([out.out.trim(), parseCertificate(leaf.certificateDer).subjectText]).toEqual([
      'subject=CN=host.example,OU=Web,O=Acme\\, Inc.,L=Zürich,C=CH', 'CN=host.example, OU=Web, O=Acme\\, Inc., L=Zürich, C=CH',
    ]);
  });
});
