import { AsnConvert } from '@peculiar/asn1-schema';
import {
  CertificateChoices, CertificateSet, ContentInfo, DigestAlgorithmIdentifiers, EncapsulatedContentInfo, SignedData, SignerInfos,
  id_data, id_signedData,
} from '@peculiar/asn1-cms';
import { PkiError, check, guard } from './errors.ts';
import { toDer } from './pem.ts';
import { cachedCertificate } from './ocsp-hashes.ts';

/**
 * Degenerate "certs-only" CMS SignedData (RFC 5652 section 5; RFC 8551 section 3.2.2): no
 * signers, no content, just certificates. This is the `application/pkcs7-mime` chain download,
 * EST /cacerts (RFC 7030 section 4.1.3) and what ADCS certsrv returns as certnew.p7b.
 */

/** Wraps certificates (leaf first or any order: CMS SET OF carries no order guarantee) in a certs-only SignedData ContentInfo, DER. */
export function buildCertsOnlyPkcs7(certsDer: Uint8Array[]): Uint8Array {
  if (certsDer.length === 0) throw new PkiError('MALFORMED', 'PKCS#7 certs-only needs at least one certificate');
  const signed = new SignedData({
    version: 1,
    digestAlgorithms: new DigestAlgorithmIdentifiers([]),
    encapContentInfo: new EncapsulatedContentInfo({ eContentType: id_data }),
    certificates: new CertificateSet(certsDer.map((der) => new CertificateChoices({ certificate: cachedCertificate(der) }))),
    signerInfos: new SignerInfos([]),
  });
  return new Uint8Array(AsnConvert.serialize(new ContentInfo({ contentType: id_signedData, content: AsnConvert.serialize(signed) })));
}

/** The X.509 certificates inside a PKCS#7/CMS SignedData (PEM "PKCS7"/"CMS", bare base64 or DER), in encoded order. */
export function parseCertsOnlyPkcs7(input: string | Uint8Array): Uint8Array[] {
  const der = toDer(input, ['PKCS7', 'CMS', 'PKCS #7 SIGNED DATA'], 'PKCS#7');
  const info = guard('PKCS#7 ContentInfo', () => AsnConvert.parse(der, ContentInfo));
  check(info.contentType === id_signedData, `PKCS#7: content type ${info.contentType} is not signedData`);
  const signed = guard('PKCS#7 SignedData', () => AsnConvert.parse(info.content, SignedData));
  return (signed.certificates ?? [])
    .filter((c) => c.certificate !== undefined)
    .map((c) => new Uint8Array(AsnConvert.serialize(c.certificate)));
}
