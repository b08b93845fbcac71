import { constants, createCipheriv, createDecipheriv, privateDecrypt, publicEncrypt, randomBytes, createPublicKey, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { ContentInfo, EnvelopedData } from '@peculiar/asn1-cms';
import { Certificate } from '@peculiar/asn1-x509';
import { AppError } from '../../errors.ts';
import { algorithm, context, integer, nullValue, octets, oid, seq, setOf, tlv } from './der-writer.ts';
import { CIPHERS, CMS } from './scep-oids.ts';

/**
 * CMS EnvelopedData (RFC 5652 section 6) as SCEP uses it (RFC 8894 section 3.2.2): one
 * KeyTransRecipientInfo with RSA PKCS#1 v1.5 key transport, AES-CBC or (old clients) 3DES/DES.
 */

const badMessage = (message: string, cause?: unknown) => new AppError('BAD_REQUEST', message, { failInfo: 'badMessageCheck' }, { cause });

function cipherKey(spec: (typeof CIPHERS)[string], key: Buffer): Buffer {
  return spec.singleDes ? Buffer.concat([key, key, key]) : key;
}

/**
 * RSAES-PKCS1-v1_5 decryption done over raw RSA: Node 20 refuses PKCS#1 v1.5 private decryption
 * (CVE-2023-46809). A bad padding yields a random key of the expected length (implicit
 * rejection), so the caller fails later at the content padding with the same error.
 */
function unwrapKey(privateKey: KeyObject, encrypted: Uint8Array, keyLength: number): Buffer {
  let em: Buffer;
  try {
    em = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, encrypted);
  } catch (err) {
    throw badMessage('the content-encryption key cannot be decrypted with the RA key', err);
  }
  const separator = em.indexOf(0x00, 2);
  const ok = em[0] === 0x00 && em[1] === 0x02 && separator >= 10 && em.length - separator - 1 === keyLength;
  return ok ? em.subarray(separator + 1) : randomBytes(keyLength);
}

function parseEnveloped(der: Uint8Array): EnvelopedData {
  try {
    const info = AsnConvert.parse(der, ContentInfo);
    if (info.contentType !== CMS.envelopedData) throw badMessage(`the pkcsPKIEnvelope is ${info.contentType}, not envelopedData`);
    return AsnConvert.parse(info.content, EnvelopedData);
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw badMessage('the pkcsPKIEnvelope is not a CMS EnvelopedData', err);
  }
}

/** The decrypted content of a pkcsPKIEnvelope, and the content encryption it used (to answer in kind). */
export function openEnvelope(der: Uint8Array, ra: { privateKey: KeyObject }): { content: Uint8Array; cipherOid: string } {
  const env = parseEnveloped(der);
  const eci = env.encryptedContentInfo;
  const cipherOid = eci.contentEncryptionAlgorithm.algorithm;
  const spec = CIPHERS[cipherOid];
  if (!spec) throw new AppError('BAD_REQUEST', `content encryption ${cipherOid} is not supported (AES-CBC, 3DES, DES are)`, { failInfo: 'badAlg' });
  const ktri = env.recipientInfos.map((r) => r.ktri).find((k) => k !== undefined);
  if (!ktri) throw new AppError('BAD_REQUEST', 'the envelope has no key transport recipient (RSA) for the RA', { failInfo: 'badAlg' });
  if (ktri.keyEncryptionAlgorithm.algorithm !== CMS.rsaEncryption) throw new AppError('BAD_REQUEST', `key encryption ${ktri.keyEncryptionAlgorithm.algorithm} is not supported (rsaEncryption is)`, { failInfo: 'badAlg' });
  const params = eci.contentEncryptionAlgorithm.parameters;
  if (!params) throw badMessage('the content encryption has no IV');
  let iv: Buffer;
  try {
    iv = Buffer.from(AsnConvert.parse(params, OctetString).buffer);
  } catch (err) {
    throw badMessage('the content encryption IV is malformed', err);
  }
  const enc = eci.encryptedContent;
  const ciphertext = Buffer.concat(enc?.value ? [Buffer.from(enc.value.buffer)] : (enc?.constructedValue ?? []).map((o) => Buffer.from(o.buffer)));
  if (iv.length !== spec.ivLength || ciphertext.length === 0) throw badMessage('the encrypted content or its IV has the wrong size');
  const key = unwrapKey(ra.privateKey, new Uint8Array(ktri.encryptedKey.buffer), spec.keyLength);
  try {
    const decipher = createDecipheriv(spec.cipher, cipherKey(spec, key), iv);
    return { content: new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()])), cipherOid };
  } catch (err) {
    throw badMessage('the pkcsPKIEnvelope does not decrypt with the RA key', err);
  }
}

/** IssuerAndSerialNumber of a certificate, DER (RFC 5652 section 10.2.4). */
export function issuerAndSerial(certDer: Uint8Array): Uint8Array {
  const cert = AsnConvert.parse(certDer, Certificate);
  return seq(new Uint8Array(AsnConvert.serialize(cert.tbsCertificate.issuer)), integer(new Uint8Array(cert.tbsCertificate.serialNumber)));
}

/** A ContentInfo(envelopedData) of `content` for the RSA key of `recipientCertDer`. */
export function sealEnvelope(content: Uint8Array, recipientCertDer: Uint8Array, cipherOid: string): Uint8Array {
  const spec = CIPHERS[cipherOid] ?? CIPHERS['2.16.840.1.101.3.4.1.2']!;
  const oidUsed = CIPHERS[cipherOid] ? cipherOid : '2.16.840.1.101.3.4.1.2';
  const cert = AsnConvert.parse(recipientCertDer, Certificate);
  const publicKey = createPublicKey({ key: Buffer.from(AsnConvert.serialize(cert.tbsCertificate.subjectPublicKeyInfo)), format: 'der', type: 'spki' });
  if (publicKey.asymmetricKeyType !== 'rsa') throw new AppError('BAD_REQUEST', 'the requester certificate has no RSA key to encrypt the answer to', { failInfo: 'badAlg' });
  const key = randomBytes(spec.keyLength);
  const iv = randomBytes(spec.ivLength);
  const cipher = createCipheriv(spec.cipher, cipherKey(spec, key), iv);
  const ciphertext = Buffer.concat([cipher.update(content), cipher.final()]);
  const encryptedKey = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, key);
  const ktri = seq(integer(0), issuerAndSerial(recipientCertDer), algorithm(CMS.rsaEncryption, nullValue()), octets(encryptedKey));
  const eci = seq(oid(CMS.data), algorithm(oidUsed, octets(iv)), tlv(0x80, ciphertext));
  return seq(oid(CMS.envelopedData), context(0, seq(integer(0), setOf(ktri), eci)));
}
