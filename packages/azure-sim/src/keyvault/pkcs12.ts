/**
 * Reads what Key Vault's import accepts (RFC 7292 PKCS#12, and PEM with certificates and a
 * private key) far enough to know the certificates, whether the password opens the file and
 * whether a private key is there. PKCS#12 protection read: HMAC-SHA1/SHA-256 MAC, PBES2
 * (PBKDF2 + AES-CBC or 3DES) and pbeWithSHAAnd3-KeyTripleDES-CBC; RC2-40 (OpenSSL 1.x's
 * default for certificates) is refused as unreadable, a limit of this emulator.
 */
import { createDecipheriv, createHash, createHmac, createPrivateKey, pbkdf2Sync, timingSafeEqual, X509Certificate, type KeyObject } from 'node:crypto';
import { AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { ContentInfo, EncryptedContentInfo, id_data, id_encryptedData } from '@peculiar/asn1-cms';
import { AuthenticatedSafe, CertBag, PFX, SafeContents, id_certBag, id_keyBag, id_pkcs8ShroudedKeyBag } from '@peculiar/asn1-pfx';

/** `EncryptedData ::= SEQUENCE { version, encryptedContentInfo }` (RFC 5652 section 8). */
class CmsEncryptedData {
  version = 0;
  encryptedContentInfo = new EncryptedContentInfo();
}
AsnProp({ type: AsnPropTypes.Integer })(CmsEncryptedData.prototype, 'version');
AsnProp({ type: EncryptedContentInfo })(CmsEncryptedData.prototype, 'encryptedContentInfo');
AsnType({ type: AsnTypeTypes.Sequence })(CmsEncryptedData);

/** `PBES2-params ::= SEQUENCE { keyDerivationFunc, encryptionScheme }` (RFC 8018 A.4). */
class Pbes2Params {
  keyDerivationFunc = new AlgorithmIdentifier();
  encryptionScheme = new AlgorithmIdentifier();
}
AsnProp({ type: AlgorithmIdentifier })(Pbes2Params.prototype, 'keyDerivationFunc');
AsnProp({ type: AlgorithmIdentifier })(Pbes2Params.prototype, 'encryptionScheme');
AsnType({ type: AsnTypeTypes.Sequence })(Pbes2Params);

/** `PBKDF2-params ::= SEQUENCE { salt OCTET STRING, iterationCount, keyLength OPTIONAL, prf DEFAULT hmacWithSHA1 }`. */
class Pbkdf2Params {
  salt = new OctetString();
  iterationCount = 0;
  keyLength?: number;
  prf?: AlgorithmIdentifier;
}
AsnProp({ type: OctetString })(Pbkdf2Params.prototype, 'salt');
AsnProp({ type: AsnPropTypes.Integer })(Pbkdf2Params.prototype, 'iterationCount');
AsnProp({ type: AsnPropTypes.Integer, optional: true })(Pbkdf2Params.prototype, 'keyLength');
AsnProp({ type: AlgorithmIdentifier, optional: true })(Pbkdf2Params.prototype, 'prf');
AsnType({ type: AsnTypeTypes.Sequence })(Pbkdf2Params);

/** `pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER }` (RFC 7292 appendix C). */
class Pkcs12PbeParams {
  salt = new OctetString();
  iterations = 0;
}
AsnProp({ type: OctetString })(Pkcs12PbeParams.prototype, 'salt');
AsnProp({ type: AsnPropTypes.Integer })(Pkcs12PbeParams.prototype, 'iterations');
AsnType({ type: AsnTypeTypes.Sequence })(Pkcs12PbeParams);

export class ImportFormatError extends Error {}

export interface ImportedMaterial {
  /** The certificate whose key is in the file, then the rest, DER. */
  certificates: Buffer[];
  privateKey: KeyObject;
}

const DIGESTS: Record<string, { name: string; u: number }> = { '1.3.14.3.2.26': { name: 'sha1', u: 20 }, '2.16.840.1.101.3.4.2.1': { name: 'sha256', u: 32 } };
const PRFS: Record<string, string> = { '1.2.840.113549.2.7': 'sha1', '1.2.840.113549.2.9': 'sha256' };
const CIPHERS: Record<string, { name: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 }, '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyLength: 32 }, '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24 },
};
const OID_PBES2 = '1.2.840.113549.1.5.13';
const OID_PBE_SHA1_3DES = '1.2.840.113549.1.12.1.3';

/** RFC 7292 appendix B.2 key derivation (v = 64 for SHA-1 and SHA-256). */
function pkcs12Kdf(digest: { name: string; u: number }, password: string, salt: Buffer, id: number, iterations: number, length: number): Buffer {
  const v = 64;
  const pwd = password === '' ? Buffer.alloc(0) : Buffer.from(`${password}\0`, 'utf16le').swap16();
  const fill = (src: Buffer): Buffer => Buffer.from(Array.from({ length: src.length ? v * Math.ceil(src.length / v) : 0 }, (_, i) => src[i % src.length]));
  const I = Buffer.concat([fill(salt), fill(pwd)]);
  const out: Buffer[] = [];
  for (let produced = 0; produced < length; produced += digest.u) {
    let A = createHash(digest.name).update(Buffer.alloc(v, id)).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash(digest.name).update(A).digest();
    out.push(A);
    const B = fill(A);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k] + B[k] + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, length);
}

function decrypt(alg: AlgorithmIdentifier, ciphertext: Buffer, password: string): Buffer {
  const params = Buffer.from(alg.parameters ?? new ArrayBuffer(0));
  if (alg.algorithm === OID_PBE_SHA1_3DES) {
    const p = AsnConvert.parse(params, Pkcs12PbeParams);
    const salt = Buffer.from(p.salt.buffer);
    const sha1 = DIGESTS['1.3.14.3.2.26'];
    const key = pkcs12Kdf(sha1, password, salt, 1, p.iterations, 24);
    const iv = pkcs12Kdf(sha1, password, salt, 2, p.iterations, 8);
    const d = createDecipheriv('des-ede3-cbc', key, iv);
    return Buffer.concat([d.update(ciphertext), d.final()]);
  }
  if (alg.algorithm !== OID_PBES2) throw new ImportFormatError(`unsupported PKCS#12 encryption ${alg.algorithm}`);
  const p = AsnConvert.parse(params, Pbes2Params);
  const kdf = AsnConvert.parse(p.keyDerivationFunc.parameters ?? new ArrayBuffer(0), Pbkdf2Params);
  const cipher = CIPHERS[p.encryptionScheme.algorithm];
  const prf = PRFS[kdf.prf?.algorithm ?? '1.2.840.113549.2.7'];
  if (!cipher || !prf) throw new ImportFormatError('unsupported PBES2 parameters');
  const iv = Buffer.from(AsnConvert.parse(p.encryptionScheme.parameters ?? new ArrayBuffer(0), OctetString).buffer);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), Buffer.from(kdf.salt.buffer), kdf.iterationCount, cipher.keyLength, prf);
  const d = createDecipheriv(cipher.name, key, iv);
  return Buffer.concat([d.update(ciphertext), d.final()]);
}

function octets(info: ContentInfo): Buffer {
  return Buffer.from(AsnConvert.parse(info.content, OctetString).buffer);
}

/** Opens a PFX; ImportFormatError when it is not one, the password is wrong or no key is inside. */
export function readPkcs12(der: Buffer, password: string): ImportedMaterial {
  let pfx: PFX;
  try {
    pfx = AsnConvert.parse(der, PFX);
  } catch {
    throw new ImportFormatError('not PKCS#12');
  }
  if (pfx.authSafe.contentType !== id_data) throw new ImportFormatError('public-key integrity mode is not supported');
  const authSafeDer = octets(pfx.authSafe);
  if (pfx.macData) {
    const digest = DIGESTS[pfx.macData.mac.digestAlgorithm.algorithm];
    if (!digest) throw new ImportFormatError('unsupported MAC digest');
    const key = pkcs12Kdf(digest, password, Buffer.from(pfx.macData.macSalt.buffer), 3, pfx.macData.iterations, digest.u);
    const mac = createHmac(digest.name, key).update(authSafeDer).digest();
    const expected = Buffer.from(pfx.macData.mac.digest.buffer);
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) throw new ImportFormatError('MAC mismatch (wrong password)');
  }
  const certificates: Buffer[] = [];
  let privateKey: KeyObject | undefined;
  try {
    for (const info of AsnConvert.parse(authSafeDer, AuthenticatedSafe)) {
      let safeDer: Buffer;
      if (info.contentType === id_data) safeDer = octets(info);
      else if (info.contentType === id_encryptedData) {
        const eci = AsnConvert.parse(info.content, CmsEncryptedData).encryptedContentInfo;
        const ec = eci.encryptedContent;
        const ct = ec?.value ? Buffer.from(ec.value.buffer) : Buffer.concat((ec?.constructedValue ?? []).map((o) => Buffer.from(o.buffer)));
        safeDer = decrypt(eci.contentEncryptionAlgorithm, ct, password);
      } else continue;
      for (const bag of AsnConvert.parse(safeDer, SafeContents)) {
        if (bag.bagId === id_certBag) certificates.push(Buffer.from(AsnConvert.parse(AsnConvert.parse(bag.bagValue, CertBag).certValue, OctetString).buffer));
        else if (bag.bagId === id_pkcs8ShroudedKeyBag) privateKey = createPrivateKey({ key: Buffer.from(bag.bagValue), format: 'der', type: 'pkcs8', passphrase: password });
        else if (bag.bagId === id_keyBag) privateKey = createPrivateKey({ key: Buffer.from(bag.bagValue), format: 'der', type: 'pkcs8' });
      }
    }
  } catch (e) {
    if (e instanceof ImportFormatError) throw e;
    throw new ImportFormatError('PKCS#12 content cannot be read');
  }
  return ordered(certificates, privateKey);
}

/** Reads PEM text: certificates plus a PRIVATE KEY (or ENCRYPTED PRIVATE KEY opened with `password`). */
export function readPem(text: string, password: string | undefined): ImportedMaterial {
  const blocks = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g)];
  const certificates = blocks.filter((b) => b[1] === 'CERTIFICATE').map((b) => Buffer.from(b[2].replace(/\s+/g, ''), 'base64'));
  const keyBlock = blocks.find((b) => b[1].endsWith('PRIVATE KEY'));
  if (!keyBlock) return ordered(certificates, undefined);
  try {
    return ordered(certificates, createPrivateKey({ key: keyBlock[0], format: 'pem', passphrase: password }));
  } catch (e) {
    if (e instanceof ImportFormatError) throw e;
    throw new ImportFormatError('private key cannot be read');
  }
}

function ordered(certificates: Buffer[], privateKey: KeyObject | undefined): ImportedMaterial {
  if (certificates.length === 0) throw new ImportFormatError('no certificate');
  if (!privateKey) throw new ImportFormatError('no private key');
  let leaf = -1;
  try {
    leaf = certificates.findIndex((c) => new X509Certificate(c).checkPrivateKey(privateKey));
  } catch {
    throw new ImportFormatError('certificate cannot be parsed');
  }
  if (leaf < 0) throw new ImportFormatError('the private key matches no certificate');
  return { certificates: [certificates[leaf], ...certificates.filter((_, i) => i !== leaf)], privateKey };
}
