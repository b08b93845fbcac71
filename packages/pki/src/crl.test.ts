import { afterAll, describe, expect, it } from 'vitest';
import { parseCrl, signCrl, REVOCATION_REASON_CODES, type RevocationReason } from './crl.ts';
import { parseCertificate } from './certificate.ts';
import { pemEncode } from './pem.ts';
import { PkiError } from './errors.ts';
import { AFTER, BEFORE, NOW, makeIssued, makeRoot, openssl, workdir } from './test-helpers.ts';

const wd = workdir();
afterAll(() => wd.cleanup());

const root = makeRoot('EC-P384');
const revokedLeaf = makeIssued(root, 'EC-P256');
const goodLeaf = makeIssued(root, 'EC-P256');
const revokedAt = new Date(Math.floor(NOW.getTime() / 1000) * 1000 - 60_000);

function crlWith(reason: RevocationReason, crlNumber = 7n): Uint8Array {
  return signCrl({ issuer: root, crlNumber, thisUpdate: BEFORE, nextUpdate: AFTER,
    revoked: [{ serialHex: parseCertificate(revokedLeaf.certificateDer).serialHex, revokedAt, reason }] });
}

describe('crl', () => {
  const crlFile = wd.write('ca.crl', pemEncode('X509 CRL', crlWith('keyCompromise')));
  const rootFile = wd.write('root.pem', root.pem);

  it.each([
    ['fail/revoked leaf is refused by openssl verify -crl_check', revokedLeaf, 'error 23 at 0 depth lookup: certificate revoked'],
    ['ok/other leaf passes openssl verify -crl_check', goodLeaf, 'OK'],
  ])('%s', (name, leaf, expected) => {
    const file = wd.write(`${name.replace(/\W/g, '')}.pem`, leaf.pem);
    const res = openssl(['verify', '-crl_check', '-CAfile', rootFile, '-CRLfile', crlFile, file]);
    expect(res.out.includes(expected)).toBe(true);
  });

  it('ok/openssl crl -text shows v2, number, AKI and the reason', () => {
    const text = openssl(['crl', '-in', crlFile, '-noout', '-text', '-verify', '-CAfile', rootFile]).out;
    const serial = parseCertificate(revokedLeaf.certificateDer).serialHex.toUpperCase();
    expect([/Version 2/.test(text), /CRL Number: \n\s+7\n/.test(text), /Authority Key Identifier/.test(text),
      text.includes(`Serial Number: ${serial}`), /Key Compromise/.test(text), /verify OK/.test(text)]).toEqual([true, true, true, true, true, true]);
  });

  it.each(Object.keys(REVOCATION_REASON_CODES).filter((r) => r !== 'removeFromCRL') as RevocationReason[])('ok/reason %s round-trips', (reason) => {
    const parsed = parseCrl(crlWith(reason));
    expect(parsed.revoked).toEqual([{ serialHex: parseCertificate(revokedLeaf.certificateDer).serialHex, revokedAt, ...(reason === 'unspecified' ? {} : { reason }) }]);
  });

  it('ok/parse fields; a 20-octet CRL number survives', () => {
    const big = (1n << 159n) - 1n;
    const p = parseCrl(pemEncode('X509 CRL', crlWith('superseded', big)));
    expect({ n: p.crlNumber, issuer: p.issuerText, thisUpdate: p.thisUpdate.getTime(), aki: p.authorityKeyIdentifier })
      .toEqual({ n: big, issuer: 'CN=Test Root, O=Certbridge Test', thisUpdate: Math.floor(BEFORE.getTime() / 1000) * 1000, aki: parseCertificate(root.certificateDer).subjectKeyIdentifier });
  });

  it('ok/empty CRL omits revokedCertificates and openssl reads it', () => {
    const der = signCrl({ issuer: root, crlNumber: 0n, thisUpdate: BEFORE, nextUpdate: AFTER, revoked: [] });
    const text = openssl(['crl', '-in', wd.write('empty.crl', pemEncode('X509 CRL', der)), '-noout', '-text']).out;
    expect([parseCrl(der).revoked, parseCrl(der).crlNumber, text.includes('No Revoked Certificates.')]).toEqual([[], 0n, true]);
  });

  it.each([
    ['fail/removeFromCRL in a full CRL', () => crlWith('removeFromCRL'), new PkiError('MALFORMED', 'removeFromCRL is only valid in delta CRLs (RFC 5280 section 5.3.1)')],
    ['fail/negative CRL number', () => crlWith('superseded', -1n), new PkiError('MALFORMED', 'crlNumber must not be negative')],
    ['fail/bad serial hex', () => signCrl({ issuer: root, crlNumber: 1n, thisUpdate: BEFORE, nextUpdate: AFTER, revoked: [{ serialHex: 'xyz', revokedAt, reason: 'superseded' }] }),
      new PkiError('MALFORMED', 'serial "xyz" is not hex')],
  ])('%s', (_n, make, error) => {
    expect(make).toThrow(error);
  });

  /** Runs `openssl ca` over a throwaway database; `withNumber` adds a crlnumber file (v2 CRL with cRLNumber). */
  function opensslCrl(name: string, withNumber: boolean): string {
    const d = (f: string) => wd.path(`${name}-${f}`);
    wd.write(`${name}-index.txt`, '');
    if (withNumber) wd.write(`${name}-crlnumber`, '2A\n');
    wd.write(`${name}-key.pem`, root.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
    const cnf = wd.write(`${name}.cnf`, `[ca]\ndefault_ca=d\n[d]\ndatabase=${d('index.txt')}\n${withNumber ? `crlnumber=${d('crlnumber')}\n` : ''}default_md=sha256\ndefault_crl_days=1\n`);
    const common = ['-config', cnf, '-keyfile', d('key.pem'), '-cert', rootFile];
    const rev = openssl(['ca', ...common, '-revoke', wd.write(`${name}-leaf.pem`, revokedLeaf.pem), '-crl_reason', 'cessationOfOperation']);
    const gen = openssl(['ca', ...common, '-gencrl', '-out', d('crl.pem')]);
    if (rev.status !== 0 || gen.status !== 0) throw new Error(rev.out + gen.out);
    return wd.read(`${name}-crl.pem`).toString();
  }

  it('ok/CRL made by openssl ca parses', () => {
    const p = parseCrl(opensslCrl('v2', true));
    expect({ n: p.crlNumber, revoked: p.revoked.map((r) => [r.serialHex, r.reason]), issuer: p.issuerText })
      .toEqual({ n: 42n, revoked: [[parseCertificate(revokedLeaf.certificateDer).serialHex, 'cessationOfOperation']], issuer: 'CN=Test Root, O=Certbridge Test' });
  });

  it('fail/CRL without cRLNumber (openssl ca, no crlnumber file)', () => {
    expect(() => parseCrl(opensslCrl('v1', false))).toThrow(new PkiError('MALFORMED', 'CRL has no cRLNumber extension (RFC 5280 section 5.2.3)'));
  });
});
