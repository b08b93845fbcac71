import { afterAll, describe, expect, it } from 'vitest';
import { keyMatchesCertificate, parseCertificate, signCertificate, verifyCertificateSignature, type CertificateTemplate } from './certificate.ts';
import { generateKeyPair, spkiOf, type KeyAlgorithm } from './keys.ts';
import { parseDn } from './names.ts';
import { pemEncode } from './pem.ts';
import { randomSerial } from './serial.ts';
import { EKU } from './oids.ts';
import { PkiError } from './errors.ts';
import { AFTER, BEFORE, makeIssued, makeRoot, openssl, workdir } from './test-helpers.ts';

const wd = workdir();
afterAll(() => wd.cleanup());

const SIG_NAMES: Record<string, string> = { 'EC-P256': 'ecdsa-with-SHA256', 'EC-P384': 'ecdsa-with-SHA384', 'RSA-2048': 'sha256WithRSAEncryption', 'RSA-3072': 'sha256WithRSAEncryption' };

describe('signCertificate', () => {
  it.each(['EC-P256', 'EC-P384', 'RSA-2048', 'RSA-3072'] as KeyAlgorithm[])('ok/%s root -> intermediate -> leaf verifies with openssl', (alg) => {
    const root = makeRoot(alg);
    const inter = makeIssued(root, alg, { subject: parseDn('CN=Test Intermediate, O=Certbridge Test'), ca: { pathLength: 0 }, keyUsages: ['keyCertSign', 'cRLSign'] });
    const leaf = makeIssued(inter, 'EC-P256', {
      sans: [{ type: 'dns', value: 'leaf.example.test' }], keyUsages: ['digitalSignature'], extendedKeyUsages: [EKU.serverAuth],
    });
    const dir = alg.replace(/\W/g, '');
    const res = openssl(['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', wd.write(`${dir}-root.pem`, root.pem),
      '-untrusted', wd.write(`${dir}-inter.pem`, inter.pem), wd.write(`${dir}-leaf.pem`, leaf.pem)]);
    const text = openssl(['x509', '-in', wd.path(`${dir}-inter.pem`), '-noout', '-text']).out;
    expect({ verify: res.out.trim(), sig: /Signature Algorithm: (\S+)/.exec(text)?.[1], bc: /CA:TRUE, pathlen:0/.test(text) })
      .toEqual({ verify: `${wd.path(`${dir}-leaf.pem`)}: OK`, sig: SIG_NAMES[alg], bc: true });
  });

  const root = makeRoot('EC-P256');

  it('ok/extensions as openssl reads them', () => {
    const leaf = makeIssued(root, 'EC-P256', {
      subject: [], sans: [{ type: 'dns', value: 'only-san.example.test' }], keyUsages: ['digitalSignature', 'keyAgreement'],
      extendedKeyUsages: [EKU.serverAuth, EKU.clientAuth], aia: { caIssuers: ['http://pki.test/ca.crt'], ocsp: ['http://pki.test/ocsp'] },
      crlDistributionPoints: ['http://pki.test/ca.crl'],
      extraExtensions: [{ oid: '1.3.6.1.5.5.7.48.1.5', critical: false, valueDer: new Uint8Array([5, 0]) }],
    });
    const text = openssl(['x509', '-in', wd.write('ext.pem', leaf.pem), '-noout', '-ext',
      'subjectAltName,keyUsage,extendedKeyUsage,authorityInfoAccess,crlDistributionPoints,noCheck,basicConstraints']).out;
    expect(text.split('\n').map((l) => l.trim()).filter(Boolean)).toEqual([
      'X509v3 Basic Constraints: critical', 'CA:FALSE',
      'X509v3 Key Usage: critical', 'Digital Signature, Key Agreement',
      'X509v3 Extended Key Usage:', 'TLS Web Server Authentication, TLS Web Client Authentication',
      'X509v3 Subject Alternative Name: critical', 'DNS:only-san.example.test',
      'Authority Information Access:', 'OCSP - URI:http://pki.test/ocsp', 'CA Issuers - URI:http://pki.test/ca.crt',
      'X509v3 CRL Distribution Points:', 'Full Name:', 'URI:http://pki.test/ca.crl',
      'OCSP No Check:',
    ]);
  });

  it.each([
    ['ok/UTCTime before 2050', new Date('2049-12-31T23:59:59Z'), 'notAfter=Dec 31 23:59:59 2049 GMT', 'UTCTIME'],
    ['ok/GeneralizedTime from 2050', new Date('2050-01-01T00:00:00Z'), 'notAfter=Jan  1 00:00:00 2050 GMT', 'GENERALIZEDTIME'],
  ])('%s', (name, notAfter, expected, tag) => {
    const leaf = makeIssued(root, 'EC-P256', { notAfter });
    const file = wd.write(`${name.replace(/\W/g, '')}.pem`, leaf.pem);
    const asn1 = openssl(['asn1parse', '-in', file]).out.split('\n').filter((l) => /UTCTIME|GENERALIZEDTIME/.test(l));
    expect([openssl(['x509', '-in', file, '-noout', '-enddate']).out.trim(), asn1[1]?.includes(tag), parseCertificate(leaf.certificateDer).notAfter])
      .toEqual([expected, true, notAfter]);
  });

  it.each([
    ['ok/high-bit serial gets a leading zero', [0x80, 0x01], '8001'],
    ['ok/leading zeros are dropped', [0x00, 0x00, 0x7f], '7f'],
  ])('%s', (name, serial, hex) => {
    const leaf = makeIssued(root, 'EC-P256', { serialNumber: new Uint8Array(serial) });
    const out = openssl(['x509', '-in', wd.write(`${name.replace(/\W/g, '')}.pem`, leaf.pem), '-noout', '-serial']).out.trim();
    expect([parseCertificate(leaf.certificateDer).serialHex, out]).toEqual([hex, `serial=${hex.toUpperCase()}`]);
  });

  const base = (): CertificateTemplate => ({ serialNumber: randomSerial(), subject: parseDn('CN=x'), spkiDer: spkiOf(generateKeyPair('EC-P256').publicKey), notBefore: BEFORE, notAfter: AFTER });
  it.each<[string, () => Parameters<typeof signCertificate>, PkiError]>([
    ['fail/notAfter before notBefore', () => [{ ...base(), notAfter: BEFORE, notBefore: AFTER }, root], new PkiError('MALFORMED', 'notAfter must be after notBefore')],
    ['fail/zero serial', () => [{ ...base(), serialNumber: new Uint8Array([0]) }, root], new PkiError('MALFORMED', 'serial number must be positive (RFC 5280 section 4.1.2.2)')],
    ['fail/21-octet serial', () => [{ ...base(), serialNumber: new Uint8Array(21).fill(1) }, root], new PkiError('MALFORMED', 'serial number longer than 20 octets (RFC 5280 section 4.1.2.2)')],
    ['fail/no subject and no SAN', () => [{ ...base(), subject: [] }, root], new PkiError('MALFORMED', 'a certificate needs a subject or at least one SAN (RFC 5280 section 4.1.2.6)')],
    ['fail/duplicate extension', () => [{ ...base(), extraExtensions: [{ oid: '2.5.29.19', critical: true, valueDer: new Uint8Array([0x30, 0]) }] }, root], new PkiError('MALFORMED', 'extension 2.5.29.19 appears twice')],
    ['fail/issuer key does not match issuer certificate', () => [base(), { certificateDer: root.certificateDer, privateKey: generateKeyPair('EC-P256').privateKey }], new PkiError('MALFORMED', 'signer private key does not match the signer certificate')],
    ['fail/self-signed key does not match spki', () => [base(), { selfSigned: generateKeyPair('EC-P256').privateKey }], new PkiError('MALFORMED', 'self-signed: the private key does not match spkiDer')],
    ['fail/garbage spki', () => [{ ...base(), spkiDer: new Uint8Array([1, 2, 3]) }, root], new PkiError('MALFORMED', 'template SubjectPublicKeyInfo: truncated value')],
  ])('%s', (_n, args, error) => {
    expect(() => signCertificate(...args())).toThrow(error);
  });
});

describe('parseCertificate', () => {
  it('ok/openssl req -x509 certificate', () => {
    const key = wd.path('ossl.key');
    const res = openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-subj', '/C=DE/O=Acme/CN=ossl.example.test', '-days', '30', '-set_serial', '0x0102',
      '-addext', 'subjectAltName=DNS:ossl.example.test,IP:10.1.2.3,IP:fe80::1,email:ops@example.test,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:svc@corp.test',
      '-out', wd.path('ossl.pem')]);
    expect(res.status).toBe(0);
    const info = parseCertificate(wd.read('ossl.pem').toString());
    const fp = openssl(['x509', '-in', wd.path('ossl.pem'), '-noout', '-fingerprint', '-sha256']).out.trim().split('=')[1]?.replace(/:/g, '').toLowerCase();
    expect({ serial: info.serialHex, subject: info.subjectText, issuer: info.issuerText, sans: info.sans, ca: info.isCa, alg: info.publicKey.algorithm, fp: info.fingerprintSha256, akiIsSki: info.authorityKeyIdentifier === info.subjectKeyIdentifier })
      .toEqual({
        serial: '0102', subject: 'CN=ossl.example.test, O=Acme, C=DE', issuer: 'CN=ossl.example.test, O=Acme, C=DE',
        sans: [{ type: 'dns', value: 'ossl.example.test' }, { type: 'ip', value: '10.1.2.3' }, { type: 'ip', value: 'fe80::1' }, { type: 'email', value: 'ops@example.test' }, { type: 'upn', value: 'svc@corp.test' }],
        ca: true, alg: 'RSA-2048', fp, akiIsSki: true,
      });
  });

  it('ok/signature and key checks', () => {
    const root = makeRoot('EC-P384');
    const other = makeRoot('EC-P384');
    const leaf = makeIssued(root, 'RSA-2048');
    expect([
      verifyCertificateSignature(leaf.certificateDer, spkiOf(root.keys.publicKey)),
      verifyCertificateSignature(leaf.certificateDer, spkiOf(other.keys.publicKey)),
      verifyCertificateSignature(leaf.certificateDer, spkiOf(leaf.keys.publicKey)),
      keyMatchesCertificate(leaf.privateKey, leaf.certificateDer),
      keyMatchesCertificate(root.privateKey, leaf.certificateDer),
      parseCertificate(leaf.certificateDer).authorityKeyIdentifier === parseCertificate(root.certificateDer).subjectKeyIdentifier,
    ]).toEqual([true, false, false, true, false, true]);
  });

  it('ok/RSASSA-PSS signed certificate (openssl) verifies against its own key', () => {
    const res = openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', wd.path('pss.key'), '-subj', '/CN=pss', '-sigopt', 'rsa_padding_mode:pss',
      '-sigopt', 'rsa_pss_saltlen:32', '-out', wd.path('pss.pem')]);
    const info = parseCertificate(wd.read('pss.pem').toString());
    expect([res.status, info.signatureAlgorithmOid, verifyCertificateSignature(info.der, info.spkiDer)]).toEqual([0, '1.2.840.113549.1.1.10', true]);
  });

  it('ok/PEM text with other blocks around it', () => {
    const root = makeRoot();
    expect(parseCertificate(`junk\n${pemEncode('X509 CRL', new Uint8Array([0x30, 0]))}${root.pem}`).fingerprintSha256)
      .toBe(parseCertificate(root.certificateDer).fingerprintSha256);
  });
});
