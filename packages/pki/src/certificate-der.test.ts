import { describe, expect, it } from 'vitest';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Extensions, Name, SubjectPublicKeyInfo, TBSCertificate, Validity, Version } from '@peculiar/asn1-x509';
import { signCertificate, type CertificateTemplate } from './certificate.ts';
import { buildExtensions } from './certificate-extensions.ts';
import { keyIdentifier } from './extensions.ts';
import { generateKeyPair, spkiOf, type KeyAlgorithm } from './keys.ts';
import { parseDn, toAsnName } from './names.ts';
import { serialToInteger } from './serial.ts';
import { EKU_NAMES } from './oids.ts';
import * as der from './der.ts';
import { bytesToIp, ipToBytes } from './ip.ts';
import { GeneralName } from '@peculiar/asn1-x509';
import { makeRoot, type TestCa } from './test-helpers.ts';
import { KEY_USAGES } from './extensions.ts';

/**
 * The hand-written DER of certificate-der.ts against the same TBSCertificate built from
 * @peculiar/asn1-x509 classes: byte-identical or the test fails.
 */

/** The reference encoding: TBSCertificate from asn1-x509 classes, as signCertificate used to build it. */
function referenceTbs(tpl: CertificateTemplate, issuer: TestCa): Uint8Array {
  const spki = AsnConvert.parse(tpl.spkiDer, SubjectPublicKeyInfo);
  const issuerCert = AsnConvert.parse(issuer.certificateDer, TBSCertificateHolder);
  const issuerSpki = issuerCert.tbsCertificate.subjectPublicKeyInfo;
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialToInteger(tpl.serialNumber).slice().buffer,
    signature: AsnConvert.parse(signatureAlg(issuer), AlgorithmIdentifier),
    issuer: AsnConvert.parse(AsnConvert.serialize(issuerCert.tbsCertificate.subject), Name),
    validity: new Validity({ notBefore: tpl.notBefore, notAfter: tpl.notAfter }),
    subject: toAsnName(tpl.subject),
    subjectPublicKeyInfo: spki,
    extensions: new Extensions(buildExtensions(tpl, spki, keyIdentifier(issuerSpki))),
  });
  return new Uint8Array(AsnConvert.serialize(tbs));
}
import { Certificate as TBSCertificateHolder } from '@peculiar/asn1-x509';

function signatureAlg(issuer: TestCa): Uint8Array {
  const cert = issuer.certificateDer;
  const top = der.children(cert, der.readTlv(cert, 0));
  return der.raw(cert, top[1] as der.Tlv);
}

function tbsOf(certDer: Uint8Array): Uint8Array {
  return der.raw(certDer, der.children(certDer, der.readTlv(certDer, 0))[0] as der.Tlv);
}

const roots: Record<string, TestCa> = { 'EC-P384': makeRoot('EC-P384'), 'RSA-2048': makeRoot('RSA-2048') };
const leafSpki = spkiOf(generateKeyPair('EC-P256').publicKey);
const rsaSpki = spkiOf(generateKeyPair('RSA-2048').publicKey);
const base: CertificateTemplate = {
  serialNumber: new Uint8Array([0x12, 0x34]), subject: parseDn('CN=a.example.test'), spkiDer: leafSpki,
  notBefore: new Date('2026-01-02T03:04:05Z'), notAfter: new Date('2027-01-02T03:04:05Z'),
};

const CASES: [string, Partial<CertificateTemplate>][] = [
  ['minimal leaf', {}],
  ['RSA subject key', { spkiDer: rsaSpki }],
  ['high-bit serial', { serialNumber: new Uint8Array([0xff, 0x01, 0x02]) }],
  ['20-octet serial', { serialNumber: new Uint8Array(20).fill(0x7f) }],
  ['rich subject string types', { subject: parseDn('CN=Zoë Ünïcode,OU=R&D,O=Acme\\, Inc.,L=Zürich,ST=ZH,C=CH,SERIALNUMBER=42,E=ops@example.test,DC=corp,DC=example,UID=u1') }],
  ['serialNumber outside PrintableString', { subject: parseDn('CN=x,SERIALNUMBER=42_b') }],
  ['all SAN types', { sans: [{ type: 'dns', value: 'a.example.test' }, { type: 'dns', value: '*.example.test' }, { type: 'ip', value: '192.0.2.1' },
    { type: 'ip', value: '2001:db8::1' }, { type: 'ip', value: '::' }, { type: 'ip', value: '2001:db8:0:1:0:0:0:1' }, { type: 'email', value: 'a@example.test' },
    { type: 'uri', value: 'spiffe://corp/ns/x' }, { type: 'upn', value: 'alice@corp.test' }] }],
  ['empty subject makes SAN critical', { subject: [], sans: [{ type: 'dns', value: 'only.example.test' }] }],
  ...KEY_USAGES.map((u): [string, Partial<CertificateTemplate>] => [`key usage ${u}`, { keyUsages: [u] }]),
  ['key usages combined', { keyUsages: ['digitalSignature', 'keyEncipherment', 'decipherOnly'] }],
  ['all EKUs', { extendedKeyUsages: Object.values(EKU_NAMES) }],
  ['CA without path length', { ca: {}, keyUsages: ['keyCertSign', 'cRLSign'] }],
  ['CA path length 0', { ca: { pathLength: 0 } }],
  ['CA path length 200', { ca: { pathLength: 200 } }],
  ['AIA and CDP', { aia: { caIssuers: ['http://pki.test/a.crt', 'http://pki.test/b.crt'], ocsp: ['http://pki.test/ocsp'] }, crlDistributionPoints: ['http://pki.test/1.crl', 'ldap://pki.test/2'] }],
  ['only OCSP AIA', { aia: { ocsp: ['http://pki.test/ocsp'] } }],
  ['extra extensions, critical and not', { extraExtensions: [{ oid: '1.3.6.1.5.5.7.48.1.5', critical: false, valueDer: new Uint8Array([5, 0]) },
    { oid: '1.3.6.1.4.1.311.20.2', critical: true, valueDer: new Uint8Array([0x1e, 0x04, 0, 0x55, 0, 0x73]) }] }],
  ['GeneralizedTime from 2050', { notAfter: new Date('2050-01-01T00:00:00Z') }],
  ['UTCTime edge 2049 and 1950', { notBefore: new Date('1950-01-01T00:00:00Z'), notAfter: new Date('2049-12-31T23:59:59Z') }],
  ['milliseconds dropped', { notBefore: new Date('2026-05-05T05:05:05.999Z') }],
  ['long extension over 255 octets', { sans: Array.from({ length: 40 }, (_, i) => ({ type: 'dns' as const, value: `host-${i}.example.test` })) }],
];

describe('certificate-der matches asn1-x509', () => {
  for (const alg of Object.keys(roots) as KeyAlgorithm[]) {
    it.each(CASES)(`ok/${alg} issuer: %s`, (_n, over) => {
      const root = roots[alg] as TestCa;
      const tpl = { ...base, ...over };
      expect(Buffer.from(tbsOf(signCertificate(tpl, root))).toString('hex')).toBe(Buffer.from(referenceTbs(tpl, root)).toString('hex'));
    });
  }
});

describe('ip', () => {
  it.each(['192.0.2.1', '0.0.0.0', '::', '::1', '2001:db8::1', '2001:db8:0:1::1', 'fe80::1:0:0:1', '1:2:3:4:5:6:7:8', '2001:db8:0:0:1:0:0:1'])('ok/%s matches asn1-x509 both ways', (ip) => {
    const ours = der.tlv(0x87, ipToBytes(ip));
    const theirs = new Uint8Array(AsnConvert.serialize(new GeneralName({ iPAddress: ip })));
    expect([Buffer.from(ours).toString('hex'), bytesToIp(ipToBytes(ip))]).toEqual([Buffer.from(theirs).toString('hex'), AsnConvert.parse(theirs, GeneralName).iPAddress]);
  });

  it.each([['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'], ['1::2:3.4.5.6', '00010000000000000000000203040506']])('ok/embedded dotted quad %s', (ip, hex) => {
    expect(Buffer.from(ipToBytes(ip)).toString('hex')).toBe(hex);
  });

  it.each(['1.2.3', '256.1.1.1', 'fe80::1%eth0', '1:2:3:4:5:6:7:8:9', 'x'])('fail/%s', (ip) => {
    expect(() => ipToBytes(ip)).toThrow(`"${ip}" is not an IPv4 or IPv6 address`);
  });
});

describe('der reader', () => {
  it.each([
    ['fail/indefinite length', [0x30, 0x80, 0, 0], 'bad length'],
    ['fail/non-minimal long length', [0x04, 0x81, 0x05, 1, 2, 3, 4, 5], 'non-minimal length'],
    ['fail/length beyond input', [0x04, 0x05, 1], 'truncated value'],
    ['fail/high tag number', [0x1f, 0x81, 0x01, 0x00], 'multi-octet tag'],
    ['fail/one byte', [0x30], 'truncated header'],
  ])('%s', (_n, bytes, message) => {
    expect(() => der.readTlv(new Uint8Array(bytes), 0)).toThrow(new der.DerError(message));
  });

  it.each([['1.2.840.113549.1.1.11'], ['2.5.29.37.0'], ['2.999.1'], ['0.9.2342.19200300.100.1.25'], ['1.3.6.1.4.1.311.20.2.3']])('ok/OID %s round-trips', (o) => {
    const enc = der.oid(o);
    expect([der.decodeOid(enc, der.readTlv(enc, 0)), Buffer.from(enc).toString('hex')]).toEqual([o, Buffer.from(AsnConvert.serialize(new AlgorithmIdentifier({ algorithm: o }))).toString('hex').slice(4)]);
  });
});
