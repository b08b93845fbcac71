import { afterAll, describe, expect, it } from 'vitest';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CRLReason, RevokedCertificate, TBSCertList, Time, Version, type Extension } from '@peculiar/asn1-x509';
import { CrlNumberBytes, bigintToBytes, parseCrl, parseCrlGeneral, signCrl, REVOCATION_REASON_CODES, type CrlEntryInput, type ParsedCrl } from './crl.ts';
import { decodeCrlFast } from './crl-der.ts';
import { authorityKeyIdentifierExtension, extension } from './extensions.ts';
import { issuerContext } from './issuer.ts';
import { signatureSchemeFor } from './algorithms.ts';
import { serialHexToBytes, serialToInteger } from './serial.ts';
import { OID_EXT } from './oids.ts';
import { pemEncode } from './pem.ts';
import * as der from './der.ts';
import { AFTER, BEFORE, makeRoot, openssl, workdir, type TestCa } from './test-helpers.ts';

/** crl-der.ts against asn1-x509: the TBSCertList bytes and the decoded fields must match. */

const wd = workdir();
afterAll(() => wd.cleanup());

/** The reference TBSCertList from asn1-x509 classes (how signCrl encoded before crl-der.ts). */
function referenceTbs(issuer: TestCa, crlNumber: bigint, revoked: CrlEntryInput[], thisUpdate: Date, nextUpdate: Date): Uint8Array {
  const ctx = issuerContext(issuer);
  const entries = revoked.map((r) => {
    const code = REVOCATION_REASON_CODES[r.reason];
    const exts: Extension[] = code === 0 ? [] : [extension(OID_EXT.crlReason, false, new CRLReason(code))];
    return new RevokedCertificate({ userCertificate: serialToInteger(serialHexToBytes(r.serialHex)).slice().buffer, revocationDate: new Time(r.revokedAt), crlEntryExtensions: exts.length ? exts : undefined });
  });
  return new Uint8Array(AsnConvert.serialize(new TBSCertList({
    version: Version.v2, signature: signatureSchemeFor(issuer.privateKey).algorithm, issuer: ctx.name, thisUpdate: new Time(thisUpdate), nextUpdate: new Time(nextUpdate),
    revokedCertificates: entries.length ? entries : undefined,
    crlExtensions: [authorityKeyIdentifierExtension(ctx.keyId), extension(OID_EXT.crlNumber, false, new CrlNumberBytes(bigintToBytes(crlNumber).slice().buffer))],
  })));
}

const roots = { 'EC-P256': makeRoot('EC-P256'), 'RSA-2048': makeRoot('RSA-2048') };
const at = new Date('2026-03-04T05:06:07Z');
const CASES: [string, bigint, CrlEntryInput[], Date][] = [
  ['empty', 1n, [], AFTER],
  ['every reason', 99n, (Object.keys(REVOCATION_REASON_CODES) as (keyof typeof REVOCATION_REASON_CODES)[]).filter((r) => r !== 'removeFromCRL')
    .map((reason, i) => ({ serialHex: (0x7f + i * 13).toString(16), revokedAt: at, reason })), AFTER],
  ['high-bit serials and 20-octet CRL number', (1n << 159n) - 1n, [{ serialHex: 'ff'.repeat(19), revokedAt: at, reason: 'superseded' }], AFTER],
  ['GeneralizedTime nextUpdate', 0n, [{ serialHex: '01', revokedAt: new Date('2051-01-01T00:00:00Z'), reason: 'keyCompromise' }], new Date('2060-01-01T00:00:00Z')],
  ['300 entries (long-form lengths)', 7n, Array.from({ length: 300 }, (_, i) => ({ serialHex: (i + 1).toString(16), revokedAt: at, reason: 'cessationOfOperation' as const })), AFTER],
];

const tbsOf = (crl: Uint8Array): string => Buffer.from(der.raw(crl, der.children(crl, der.readTlv(crl, 0))[0] as der.Tlv)).toString('hex');
const view = (c: ParsedCrl): string => JSON.stringify({ ...c, der: undefined, crlNumber: c.crlNumber.toString() });

describe('crl-der against asn1-x509', () => {
  for (const [alg, root] of Object.entries(roots)) {
    it.each(CASES)(`ok/${alg}: %s encodes byte for byte like asn1-x509`, (_n, crlNumber, revoked, nextUpdate) => {
      const crl = signCrl({ issuer: root, crlNumber, thisUpdate: BEFORE, nextUpdate, revoked });
      expect(tbsOf(crl)).toBe(Buffer.from(referenceTbs(root, crlNumber, revoked, BEFORE, nextUpdate)).toString('hex'));
    });
  }

  it.each(CASES.slice(0, 4))('ok/%s: fast and general decoders agree', (_n, crlNumber, revoked, nextUpdate) => {
    const crl = signCrl({ issuer: roots['EC-P256'], crlNumber, thisUpdate: BEFORE, nextUpdate, revoked });
    expect(view(parseCrl(crl))).toBe(view(parseCrlGeneral(crl)));
  });

  it('ok/every single-bit flip the fast decoder accepts decodes the same in asn1-schema', () => {
    const good = signCrl({ issuer: roots['EC-P256'], crlNumber: 5n, thisUpdate: BEFORE, nextUpdate: AFTER, revoked: CASES[1]?.[2].slice(0, 3) ?? [] });
    const disagreements: string[] = [];
    for (let i = 0; i < good.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const b = good.slice();
        b[i] = (b[i] ?? 0) ^ bit;
        let fast: string;
        try { decodeCrlFast(b); fast = view(parseCrl(b)); } catch { continue; }
        let general: string;
        try { general = view(parseCrlGeneral(b)); } catch (e) { general = String(e); }
        if (fast !== general) disagreements.push(`byte ${i} bit ${bit}: ${general.slice(0, 100)}`);
      }
    }
    expect(disagreements).toEqual([]);
  });

  it('ok/a 20,000-entry CRL signs, verifies in openssl and parses back', () => {
    const revoked = Array.from({ length: 20_000 }, (_, i) => ({ serialHex: (0x100000 + i).toString(16), revokedAt: at, reason: 'superseded' as const }));
    const crl = signCrl({ issuer: roots['EC-P256'], crlNumber: 12n, thisUpdate: BEFORE, nextUpdate: AFTER, revoked });
    const res = openssl(['crl', '-in', wd.write('big.crl', pemEncode('X509 CRL', crl)), '-noout', '-crlnumber', '-verify', '-CAfile', wd.write('root.pem', roots['EC-P256'].pem)]);
    const parsed = parseCrl(crl);
    expect([res.out.trim().split('\n').sort(), parsed.revoked.length, parsed.revoked[19_999]]).toEqual([
      ['crlNumber=0x0C', 'verify OK'], 20_000, { serialHex: (0x100000 + 19_999).toString(16), revokedAt: at, reason: 'superseded' },
    ]);
  });
});
