/**
 * @certbridge/pki: ASN.1, CSR, certificate, CRL, OCSP, PKCS#7 and PKCS#12 helpers. No I/O,
 * no async: every signing and verifying call is synchronous node:crypto.
 */
export { PkiError, type PkiErrorCode } from './errors.ts';
export { digest } from './digest.ts';
export { pemEncode, pemDecode, pemDecodeAll } from './pem.ts';
export {
  KEY_ALGORITHMS, generateKeyPair, describePublicKey, exportPrivateKeyPkcs8Der, importPrivateKey, publicKeyFromSpki, spkiOf,
  type KeyAlgorithm, type PublicKeyDescription,
} from './keys.ts';
export { parseDn, formatDn, type NameAttribute, type DistinguishedName } from './names.ts';
export { OID_UPN, type San, type SanType } from './sans.ts';
export { EKU, EKU_NAMES } from './oids.ts';
export { KEY_USAGES, type KeyUsage, type RawExtension } from './extensions.ts';
export { parseCsr, verifyCsrSignature, buildCsr, type ParsedCsr, type BuildCsrOptions } from './csr.ts';
export { randomSerial, serialHexToBytes } from './serial.ts';
export type { Signer } from './issuer.ts';
export {
  signCertificate, parseCertificate, verifyCertificateSignature, keyMatchesCertificate,
  type CertificateTemplate, type CertificateInfo,
} from './certificate.ts';
export { REVOCATION_REASON_CODES, signCrl, parseCrl, type RevocationReason, type ParsedCrl, type SignCrlOptions } from './crl.ts';
export {
  parseOcspRequest, issuerHashes, signOcspResponse, ocspErrorResponse,
  type OcspCertId, type OcspCertStatus, type OcspSingleResponse, type SignOcspResponseOptions,
} from './ocsp.ts';
export { buildPkcs12, type BuildPkcs12Options } from './pkcs12.ts';
export { buildCertsOnlyPkcs7, parseCertsOnlyPkcs7 } from './pkcs7.ts';
