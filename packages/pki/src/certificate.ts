import type { KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';
import * as der from './der.ts';
import { digest } from './digest.ts';
import { extensionsDer, nameDer, tbsCertificateDer } from './certificate-der.ts';
import { PkiError, check, guard } from './errors.ts';
import { toDer } from './pem.ts';
import { describePublicKey, publicKeyFromSpki, spkiOf, type PublicKeyDescription } from './keys.ts';
import { fromAsnName, formatDn, type DistinguishedName } from './names.ts';
import type { San } from './sans.ts';
import { signBytes, signatureSchemeFor, verifyBytes } from './algorithms.ts';
import { integerToSerialHex, serialToInteger } from './serial.ts';
import { readCertificateExtensions } from './certificate-extensions.ts';
import { decodeCertificateFast, signedEnvelope, type FastCertificate } from './certificate-decode.ts';
import { describeSpkiFast } from './spki.ts';
import type { KeyUsage, RawExtension } from './extensions.ts';
import { issuerContext, type Signer } from './issuer.ts';

/** X.509 v3 certificates (RFC 5280 section 4.1): signing from a template and parsing. */

export interface CertificateTemplate {
  /** Positive, big-endian; a 0x00 is prepended when the high bit is set. */
  serialNumber: Uint8Array;
  subject: DistinguishedName;
  spkiDer: Uint8Array;
  sans?: San[];
  /** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 section 4.1.2.5); milliseconds dropped. */
  notBefore: Date;
  notAfter: Date;
  keyUsages?: KeyUsage[];
  extendedKeyUsages?: string[];
  /** basicConstraints cA=TRUE (critical); absent means cA=FALSE (critical). */
  ca?: { pathLength?: number };
  aia?: { caIssuers?: string[]; ocsp?: string[] };
  crlDistributionPoints?: string[];
  extraExtensions?: RawExtension[];
}

/**
 * Signs a certificate synchronously. The TBSCertificate is encoded by certificate-der.ts (checked
 * byte for byte against @peculiar/asn1-x509 in the tests; der.ts says why) and signed with
 * node:crypto (algorithms.ts says why not WebCrypto). Always
 * writes subjectKeyIdentifier (SHA-1 of the key, RFC 5280 section 4.2.1.2) and
 * authorityKeyIdentifier (the issuer's SKI; our own for self-signed).
 */
export function signCertificate(tpl: CertificateTemplate, issuer: Signer | { selfSigned: KeyObject }): Uint8Array {
  if (!(tpl.notBefore instanceof Date) || !(tpl.notAfter instanceof Date) || Number.isNaN(tpl.notBefore.getTime()) || Number.isNaN(tpl.notAfter.getTime())) {
    throw new PkiError('MALFORMED', 'notBefore/notAfter must be valid Dates');
  }
  if (tpl.notAfter.getTime() <= tpl.notBefore.getTime()) throw new PkiError('MALFORMED', 'notAfter must be after notBefore');
  const ski = spkiKeyIdentifier(tpl.spkiDer);
  const subjectNameDer = nameDer(tpl.subject);
  let issuerNameDer: Uint8Array;
  let issuerKeyId: Uint8Array;
  let key: KeyObject;
  if ('selfSigned' in issuer) {
    key = issuer.selfSigned;
    if (Buffer.compare(spkiOf(key), publicKeyFromSpki(tpl.spkiDer).export({ format: 'der', type: 'spki' })) !== 0) {
      throw new PkiError('MALFORMED', 'self-signed: the private key does not match spkiDer');
    }
    issuerNameDer = subjectNameDer;
    issuerKeyId = ski;
  } else {
    const ctx = issuerContext(issuer);
    key = issuer.privateKey;
    issuerNameDer = ctx.nameDer;
    issuerKeyId = ctx.keyId;
  }
  const scheme = signatureSchemeFor(key);
  const tbsDer = tbsCertificateDer({
    serialContent: serialToInteger(tpl.serialNumber), algorithmDer: scheme.algorithmDer, issuerNameDer,
    notBefore: tpl.notBefore, notAfter: tpl.notAfter, subjectNameDer, spkiDer: tpl.spkiDer,
    extensions: extensionsDer(tpl, ski, issuerKeyId),
  });
  const signature = signBytes(scheme, key, tbsDer);
  return der.seq(tbsDer, scheme.algorithmDer, der.bitString(signature));
}

/**
 * Checks that `spkiDer` is one SubjectPublicKeyInfo SEQUENCE and returns its key identifier
 * (method 1 of RFC 5280 section 4.2.1.2: SHA-1 of the subjectPublicKey bits).
 */
function spkiKeyIdentifier(spkiDer: Uint8Array): Uint8Array {
  try {
    const outer = der.readTlv(spkiDer, 0);
    if (outer.end !== spkiDer.length || outer.tag !== 0x30) throw new der.DerError('not one SEQUENCE');
    const [alg, bits, extra] = der.children(spkiDer, outer);
    der.expect(alg, 0x30);
    const key = der.bytes(spkiDer, der.expect(bits, 0x03));
    if (extra || key[0] !== 0) throw new der.DerError('trailing data or unused bits');
    return new Uint8Array(digest('sha1', key.subarray(1)));
  } catch (err) {
    throw new PkiError('MALFORMED', `template SubjectPublicKeyInfo: ${(err as Error).message}`);
  }
}

export interface CertificateInfo {
  der: Uint8Array;
  serialHex: string;
  subject: DistinguishedName;
  subjectText: string;
  issuer: DistinguishedName;
  issuerText: string;
  notBefore: Date;
  notAfter: Date;
  sans: San[];
  spkiDer: Uint8Array;
  publicKey: PublicKeyDescription;
  isCa: boolean;
  pathLength?: number;
  keyUsages: KeyUsage[];
  extendedKeyUsages: string[];
  fingerprintSha256: string;
  subjectKeyIdentifier?: string;
  authorityKeyIdentifier?: string;
  signatureAlgorithmOid: string;
  extensions: RawExtension[];
}

/** Parses a certificate into the decoded fields (asn1 structure) and its DER. */
export function decodeCertificate(input: string | Uint8Array): { der: Uint8Array; cert: Certificate } {
  const der = toDer(input, ['CERTIFICATE', 'X509 CERTIFICATE'], 'certificate');
  const cert = guard('certificate', () => AsnConvert.parse(der, Certificate));
  check(cert.tbsCertificateRaw, 'certificate: missing tbsCertificate');
  return { der, cert };
}

/**
 * Parses an X.509 certificate (PEM, bare base64 or DER). Hex fields are lowercase. Ordinary v3
 * certificates go through the fast decoder of certificate-decode.ts, the rest through asn1-schema.
 */
export function parseCertificate(input: string | Uint8Array): CertificateInfo {
  const der = toDer(input, ['CERTIFICATE', 'X509 CERTIFICATE'], 'certificate');
  let fast: FastCertificate | undefined;
  try {
    fast = decodeCertificateFast(der);
  } catch {
    // Not an ordinary certificate: the general decoder gives the verdict and the error message.
  }
  if (!fast) return parseCertificateGeneral(der);
  return {
    der, ...fast, subjectText: formatDn(fast.subject), issuerText: formatDn(fast.issuer),
    publicKey: describeSpkiFast(fast.spkiDer) ?? describePublicKey(fast.spkiDer), fingerprintSha256: digest('sha256', der, 'hex'),
  };
}

/** The asn1-schema decoder: certificates the fast path declines, and the reference for certificate-decode.test.ts. */
export function parseCertificateGeneral(input: Uint8Array): CertificateInfo {
  const { der, cert } = decodeCertificate(input);
  const tbs = cert.tbsCertificate;
  const spkiDer = rawCertificateSpki(der) ?? new Uint8Array(AsnConvert.serialize(tbs.subjectPublicKeyInfo));
  const subject = guard('certificate subject', () => fromAsnName(tbs.subject));
  const issuer = guard('certificate issuer', () => fromAsnName(tbs.issuer));
  const ext = readCertificateExtensions(tbs.extensions ?? []);
  return {
    der, serialHex: integerToSerialHex(tbs.serialNumber), subject, subjectText: formatDn(subject), issuer, issuerText: formatDn(issuer),
    notBefore: tbs.validity.notBefore.getTime(), notAfter: tbs.validity.notAfter.getTime(), sans: ext.sans, spkiDer,
    publicKey: describeSpkiFast(spkiDer) ?? describePublicKey(spkiDer), isCa: ext.isCa, keyUsages: ext.keyUsages,
    ...(ext.pathLength !== undefined ? { pathLength: ext.pathLength } : {}),
    extendedKeyUsages: ext.extendedKeyUsages, fingerprintSha256: digest('sha256', der, 'hex'),
    ...(ext.subjectKeyIdentifier !== undefined ? { subjectKeyIdentifier: ext.subjectKeyIdentifier } : {}),
    ...(ext.authorityKeyIdentifier !== undefined ? { authorityKeyIdentifier: ext.authorityKeyIdentifier } : {}),
    signatureAlgorithmOid: cert.signatureAlgorithm.algorithm, extensions: ext.raw,
  };
}

/** The SubjectPublicKeyInfo bytes as signed when the outer layers are plain DER (asn1-schema can only re-encode its copy). */
function rawCertificateSpki(buf: Uint8Array): Uint8Array | undefined {
  try {
    const fields = der.children(buf, der.children(buf, der.readTlv(buf, 0))[0] as der.Tlv);
    return der.raw(buf, fields[fields[0]?.tag === 0xa0 ? 6 : 5] as der.Tlv).slice();
  } catch {
    // BER or otherwise unusual outer layers: the re-encoded SPKI is the best we have.
    return undefined;
  }
}

/** True when `issuerSpkiDer`'s key signed `cert` (signature only; no validity or chain checks). */
export function verifyCertificateSignature(cert: Uint8Array, issuerSpkiDer: Uint8Array): boolean {
  let parts: { algorithm: AlgorithmIdentifier; tbs: Uint8Array; signature: Uint8Array } | undefined;
  try {
    const env = signedEnvelope(cert);
    // Parameters (RSASSA-PSS) need the asn1-schema AlgorithmIdentifier below.
    if (!env.hasParameters) parts = { algorithm: new AlgorithmIdentifier({ algorithm: env.algorithmOid }), tbs: env.tbs, signature: env.signature };
  } catch {
    // Not plain DER: the general decoder gives the verdict.
  }
  if (!parts) {
    const { cert: c } = decodeCertificate(cert);
    parts = { algorithm: c.signatureAlgorithm, tbs: new Uint8Array(c.tbsCertificateRaw as ArrayBuffer), signature: new Uint8Array(c.signatureValue) };
  }
  return verifyBytes(parts.algorithm, publicKeyFromSpki(issuerSpkiDer), parts.tbs, parts.signature);
}

/** True when `key` (private or public) is the key certified by `certDer`. */
export function keyMatchesCertificate(key: KeyObject, certDer: Uint8Array): boolean {
  const certSpki = publicKeyFromSpki(parseCertificate(certDer).spkiDer);
  return Buffer.compare(spkiOf(key), certSpki.export({ format: 'der', type: 'spki' })) === 0;
}
