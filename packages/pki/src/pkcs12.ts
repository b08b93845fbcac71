import { createHash, createHmac, randomBytes, type KeyObject } from 'node:crypto';
import { AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { ContentInfo, EncryptedContent, EncryptedContentInfo, id_data, id_encryptedData } from '@peculiar/asn1-cms';
import { EncryptedPrivateKeyInfo, EncryptedData as EncryptedKeyData } from '@peculiar/asn1-pkcs8';
import {
  AuthenticatedSafe, CertBag, MacData, PFX, PKCS12Attribute, SafeBag, SafeContents, id_certBag, id_pkcs8ShroudedKeyBag, id_x509Certificate,
} from '@peculiar/asn1-pfx';
import { DigestInfo } from '@peculiar/asn1-rsa';
import { FriendlyName, LocalKeyId, id_pkcs9_at_friendlyName, id_pkcs9_at_localKeyId } from '@peculiar/asn1-pkcs9';
import { PkiError } from './errors.ts';
import { exportPrivateKeyPkcs8Der } from './keys.ts';
import { keyMatchesCertificate } from './certificate.ts';
import { pbes2Encrypt } from './pbes2.ts';
import { arrayBufferOf } from './der.ts';

/**
 * PKCS#12 (RFC 7292) for server-generated keys. Modern profile only: PBES2 (PBKDF2-HMAC-SHA256,
 * AES-256-CBC) for both the shrouded key bag and the certificate SafeContents, HMAC-SHA256
 * integrity MAC. OpenSSL 3 opens it without the legacy provider; Windows 10 1709+ and macOS
 * 12+ import it too.
 */

const ITERATIONS = 10_000;
const OID_SHA256 = '2.16.840.1.101.3.4.2.1';

/**
 * ```asn1
 * EncryptedData ::= SEQUENCE {   -- RFC 5652 section 8
 *   version CMSVersion,
 *   encryptedContentInfo EncryptedContentInfo,
 *   unprotectedAttrs [1] IMPLICIT UnprotectedAttributes OPTIONAL }
 * ```
 * asn1-cms has EncryptedContentInfo but not this wrapper.
 */
class CmsEncryptedData {
  version = 0;
  encryptedContentInfo = new EncryptedContentInfo();
  constructor(params: Partial<CmsEncryptedData> = {}) { Object.assign(this, params); }
}
AsnProp({ type: AsnPropTypes.Integer })(CmsEncryptedData.prototype, 'version');
AsnProp({ type: EncryptedContentInfo })(CmsEncryptedData.prototype, 'encryptedContentInfo');
AsnType({ type: AsnTypeTypes.Sequence })(CmsEncryptedData);

/** The PKCS#12 key derivation of RFC 7292 appendix B.2 with SHA-256 (u = 32, v = 64); used only for the MAC key (ID 3). */
export function pkcs12Kdf(password: string, salt: Uint8Array, id: number, iterations: number, length: number): Uint8Array {
  const u = 32, v = 64;
  // Appendix B.1: BMPString, big-endian, with a two-octet zero terminator.
  const pwd = Buffer.from(password + '\0', 'utf16le').swap16();
  const fill = (src: Uint8Array): Buffer => {
    const out = Buffer.alloc(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length] ?? 0;
    return out;
  };
  const I = Buffer.concat([fill(salt), fill(pwd)]);
  const D = Buffer.alloc(v, id);
  const out = Buffer.alloc(Math.ceil(length / u) * u);
  for (let block = 0; block * u < length; block++) {
    let A = createHash('sha256').update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash('sha256').update(A).digest();
    A.copy(out, block * u);
    const B = fill(A);
    // I_j = (I_j + B + 1) mod 2^(8v) for every v-octet block of I.
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = (I[j + k] ?? 0) + (B[k] ?? 0) + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return new Uint8Array(out.subarray(0, length));
}

/** PKCS12Attribute's constructor drops its argument (asn1-pfx 2.11 calls `Object.assign(params)`), so fields are set after. */
function attribute(attrId: string, value: ArrayBuffer): PKCS12Attribute {
  const attr = new PKCS12Attribute();
  attr.attrId = attrId;
  attr.attrValues = [value];
  return attr;
}

function bagAttributes(localKeyId: Uint8Array, friendlyName?: string): PKCS12Attribute[] {
  const attrs = [attribute(id_pkcs9_at_localKeyId, AsnConvert.serialize(new LocalKeyId(arrayBufferOf(localKeyId))))];
  if (friendlyName !== undefined) attrs.push(attribute(id_pkcs9_at_friendlyName, AsnConvert.serialize(new FriendlyName(friendlyName))));
  return attrs;
}

function dataContentInfo(der: ArrayBuffer): ContentInfo {
  return new ContentInfo({ contentType: id_data, content: AsnConvert.serialize(new OctetString(der)) });
}

export interface BuildPkcs12Options { privateKey: KeyObject; certificateDer: Uint8Array; chainDer?: Uint8Array[]; password: string; friendlyName?: string }

/**
 * Builds a password-protected PFX: one encrypted SafeContents with the certificate (and chain),
 * one with the PBES2-shrouded key; the key and its certificate share localKeyId (SHA-1 of the
 * certificate, as OpenSSL does) so importers pair them.
 */
export function buildPkcs12(opts: BuildPkcs12Options): Uint8Array {
  if (typeof opts.password !== 'string' || opts.password.length === 0) throw new PkiError('MALFORMED', 'PKCS#12 password must not be empty');
  if (!keyMatchesCertificate(opts.privateKey, opts.certificateDer)) throw new PkiError('MALFORMED', 'PKCS#12: private key does not match the certificate');
  const localKeyId = new Uint8Array(createHash('sha1').update(opts.certificateDer).digest());
  const certBag = (der: Uint8Array, attrs?: PKCS12Attribute[]): SafeBag => new SafeBag({
    bagId: id_certBag,
    bagValue: AsnConvert.serialize(new CertBag({ certId: id_x509Certificate, certValue: AsnConvert.serialize(new OctetString(arrayBufferOf(der))) })),
    bagAttributes: attrs,
  });
  const certs = new SafeContents([certBag(opts.certificateDer, bagAttributes(localKeyId, opts.friendlyName)), ...(opts.chainDer ?? []).map((c) => certBag(c))]);
  const certsEnc = pbes2Encrypt(new Uint8Array(AsnConvert.serialize(certs)), opts.password, ITERATIONS);
  const encryptedCerts = new ContentInfo({
    contentType: id_encryptedData,
    content: AsnConvert.serialize(new CmsEncryptedData({
      encryptedContentInfo: new EncryptedContentInfo({
        contentType: id_data, contentEncryptionAlgorithm: certsEnc.algorithm,
        encryptedContent: new EncryptedContent({ value: new OctetString(arrayBufferOf(certsEnc.ciphertext)) }),
      }),
    })),
  });
  const keyEnc = pbes2Encrypt(exportPrivateKeyPkcs8Der(opts.privateKey), opts.password, ITERATIONS);
  const shrouded = new EncryptedPrivateKeyInfo({ encryptionAlgorithm: keyEnc.algorithm, encryptedData: new EncryptedKeyData(arrayBufferOf(keyEnc.ciphertext)) });
  const keys = new SafeContents([new SafeBag({
    bagId: id_pkcs8ShroudedKeyBag, bagValue: AsnConvert.serialize(shrouded), bagAttributes: bagAttributes(localKeyId, opts.friendlyName),
  })]);
  const authSafe = AsnConvert.serialize(new AuthenticatedSafe([encryptedCerts, dataContentInfo(AsnConvert.serialize(keys))]));
  const macSalt = randomBytes(16);
  const macKey = pkcs12Kdf(opts.password, macSalt, 3, ITERATIONS, 32);
  const mac = createHmac('sha256', macKey).update(new Uint8Array(authSafe)).digest();
  const pfx = new PFX({
    version: 3,
    authSafe: dataContentInfo(authSafe),
    macData: new MacData({
      mac: new DigestInfo({ digestAlgorithm: new AlgorithmIdentifier({ algorithm: OID_SHA256, parameters: new Uint8Array([5, 0]).buffer }), digest: new OctetString(mac) }),
      macSalt: new OctetString(macSalt),
      iterations: ITERATIONS,
    }),
  });
  return new Uint8Array(AsnConvert.serialize(pfx));
}
