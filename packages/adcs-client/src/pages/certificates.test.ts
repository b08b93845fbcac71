import '../../test/helpers/pki.ts';
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { CertificateChoices, CertificateSet, ContentInfo, EncapsulatedContentInfo, SignedData, id_data, id_signedData } from '@peculiar/asn1-cms';
import { AdcsError } from '../errors.ts';
import { certificatePemFromBody, certificatesFromPkcs7, derToPem } from './certificates.ts';
import { orderChain } from '../chain.ts';
import { createTestPki, type TestPki } from '../../test/helpers/pki.ts';

let pki: TestPki;
let leafDer: Buffer;
let p7: Buffer;

function pkcs7(ders: Buffer[]): Buffer {
  const signed = new SignedData({
    version: 1,
    encapContentInfo: new EncapsulatedContentInfo({ eContentType: id_data }),
    certificates: new CertificateSet(ders.map((d) => new CertificateChoices({ certificate: AsnConvert.parse(d, Certificate) }))),
  });
  return Buffer.from(AsnConvert.serialize(new ContentInfo({ contentType: id_signedData, content: AsnConvert.serialize(signed) })));
}

function code(fn: () => unknown): string {
  try { fn(); } catch (e) { return e instanceof AdcsError ? e.code : `not AdcsError: ${String(e)}`; }
  return 'no error';
}

beforeAll(async () => {
  pki = await createTestPki();
  leafDer = (await pki.issue({ dnsNames: ['ca.corp.example'] })).der;
  p7 = pkcs7([pki.root.der, leafDer]);
});

describe('certnew.cer bodies', () => {
  it.each([
    ['ok/der', () => leafDer],
    ['ok/pem', () => Buffer.from(derToPem(leafDer))],
    ['ok/pem-crlf', () => Buffer.from(derToPem(leafDer).replace(/\n/g, '\r\n'))],
  ])('%s', (_name, body) => {
    expect(certificatePemFromBody(body(), 'test')).toBe(derToPem(leafDer));
  });
  it.each([
    ['fail/truncated-der', () => leafDer.subarray(0, leafDer.length - 20)],
    ['fail/random-bytes', () => randomBytes(300)],
    ['fail/empty', () => Buffer.alloc(0)],
    ['fail/pem-with-garbage', () => Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')],
    ['fail/trailing-bytes-after-the-certificate', () => Buffer.concat([leafDer, Buffer.from([0x05, 0x00])])],
    ['fail/sequence-without-the-signature-bit-string', () => Buffer.from([0x30, 0x04, 0x30, 0x00, 0x30, 0x00])],
    ['fail/html-error-page', () => Buffer.from('<HTML><Body>Error 0x80094004</Body></HTML>')],
  ])('%s', (_name, body) => {
    expect(code(() => certificatePemFromBody(body(), 'test'))).toBe('ADCS_UNEXPECTED_PAGE');
  });
});

describe('certnew.p7b bodies', () => {
  it('ok/chain-ordered-leaf-to-root', () => {
    expect(orderChain(certificatesFromPkcs7(p7, 'test'))).toEqual([derToPem(leafDer), derToPem(pki.root.der)]);
  });
  it('ok/base64-labelled-certificate-as-windows-sends', () => {
    expect(certificatesFromPkcs7(Buffer.from(derToPem(p7)), 'test').length).toBe(2);
  });
  it.each([
    ['fail/truncated', () => p7.subarray(0, 100)],
    ['fail/random-bytes', () => randomBytes(500)],
    ['fail/a-certificate-not-pkcs7', () => leafDer],
    ['fail/no-certificates', () => pkcs7([])],
  ])('%s', (_name, body) => {
    expect(code(() => certificatesFromPkcs7(body(), 'test'))).toBe('ADCS_UNEXPECTED_PAGE');
  });
});
