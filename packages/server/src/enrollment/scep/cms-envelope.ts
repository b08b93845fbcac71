import { constants, createCipheriv, createDecipheriv, privateDecrypt, publicEncrypt, randomBytes, createPublicKey, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { ContentInfo, EnvelopedData, type KeyTransRecipientInfo } from '@peculiar/asn1-cms';
import { Certificate } from '@peculiar/asn1-x509';
import { AppError } from '../../errors.ts';
import { algorithm, context, integer, nullValue, octets, oid, seq, setOf, tlv } from './der-writer.ts';
import { keyAgreeRecipientInfo } from './cms-kari.ts';
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

/** A key that may open envelopes: an RA's (matched by the envelope's recipient identifier) or a client's in tests. */
export interface EnvelopeKey {
  privateKey: KeyObject;
  /** When given, only a recipient naming this certificate's IssuerAndSerialNumber is opened with the key. */
  certificateDer?: Uint8Array;
}

/**
 * The key transport recipient addressed to one of `keys` (current RA first, then RAs still in
 * their rotation grace period), or badMessageCheck when the envelope names none of them.
 */
function pickRecipient(env: EnvelopedData, keys: EnvelopeKey[]): { ktri: KeyTransRecipientInfo; key: EnvelopeKey } {
  const ktris = env.recipientInfos.map((r) => r.ktri).filter((k): k is KeyTransRecipientInfo => k !== undefined);
  if (ktris.length === 0) throw new AppError('BAD_REQUEST', 'the envelope has no key transport recipient (RSA) for the RA', { failInfo: 'badAlg' });
  for (const key of keys) {
    if (!key.certificateDer) return { ktri: ktris[0]!, key };
    const wanted = Buffer.from(issuerAndSerial(key.certificateDer));
    const ktri = ktris.find((k) => k.rid.issuerAndSerialNumber && wanted.equals(Buffer.from(AsnConvert.serialize(k.rid.issuerAndSerialNumber))));
    if (ktri) return { ktri, key };
  }
  throw badMessage('the pkcsPKIEnvelope is not encrypted to an RA certificate of this endpoint (fetch GetCACert again)');
}

/** The decrypted content of a pkcsPKIEnvelope, the content encryption it used (to answer in kind) and the key that opened it. */
export function openEnvelope(der: Uint8Array, keys: EnvelopeKey | EnvelopeKey[]): { content: Uint8Array; cipherOid: string; key: EnvelopeKey } {
  const env = parseEnveloped(der);
  const eci = env.encryptedContentInfo;
  const cipherOid = eci.contentEncryptionAlgorithm.algorithm;
  const spec = CIPHERS[cipherOid];
  if (!spec) throw new AppError('BAD_REQUEST', `content encryption ${cipherOid} is not supported (AES-CBC, 3DES, DES are)`, { failInfo: 'badAlg' });
  const { ktri, key: opener } = pickRecipient(env, Array.isArray(keys) ? keys : [keys]);
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
  const key = unwrapKey(opener.privateKey, new Uint8Array(ktri.encryptedKey.buffer), spec.keyLength);
  try {
    const decipher = createDecipheriv(spec.cipher, cipherKey(spec, key), iv);
    return { content: new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()])), cipherOid, key: opener };
  } catch (err) {
    throw badMessage('the pkcsPKIEnvelope does not decrypt with the RA key', err);
  }
}

/** IssuerAndSerialNumber of a certificate, DER (RFC 5652 section 10.2.4). */
export function issuerAndSerial(certDer: Uint8Array): Uint8Array {
  const cert = AsnConvert.parse(certDer, Certificate);
  return seq(new Uint8Array(AsnConvert.serialize(cert.tbsCertificate.issuer)), integer(new Uint8Array(cert.tbsCertificate.serialNumber)));
}

/**
 * A ContentInfo(envelopedData) of `content` for the key of `recipientCertDer`: RSA key transport
 * (version 0), or for an EC key ECDH key agreement (cms-kari.ts, version 2 per RFC 5652 section 6.1).
 */
export function sealEnvelope(content: Uint8Array, recipientCertDer: Uint8Array, cipherOid: string): Uint8Array {
  const spec = CIPHERS[cipherOid] ?? CIPHERS['2.16.840.1.101.3.4.1.2']!;
  const oidUsed = CIPHERS[cipherOid] ? cipherOid : '2.16.840.1.101.3.4.1.2';
  const cert = AsnConvert.parse(recipientCertDer, Certificate);
  const publicKey = createPublicKey({ key: Buffer.from(AsnConvert.serialize(cert.tbsCertificate.subjectPublicKeyInfo)), format: 'der', type: 'spki' });
  const type = publicKey.asymmetricKeyType;
  if (type !== 'rsa' && type !== 'ec') throw new AppError('BAD_REQUEST', `the requester certificate has a ${type ?? 'unknown'} key; the answer can be encrypted to RSA or EC keys only`, { failInfo: 'badAlg' });
  // Key agreement wraps the content key with AES key wrap: 3DES/DES requesters with EC keys get AES-128.
  const [contentSpec, contentOid] = type === 'ec' && spec.cipher.startsWith('des') ? [CIPHERS['2.16.840.1.101.3.4.1.2']!, '2.16.840.1.101.3.4.1.2'] : [spec, oidUsed];
  const key = randomBytes(contentSpec.keyLength);
  const iv = randomBytes(contentSpec.ivLength);
  const cipher = createCipheriv(contentSpec.cipher, cipherKey(contentSpec, key), iv);
  const ciphertext = Buffer.concat([cipher.update(content), cipher.final()]);
  const recipient = type === 'rsa'
    ? seq(integer(0), issuerAndSerial(recipientCertDer), algorithm(CMS.rsaEncryption, nullValue()), octets(publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, key)))
    : keyAgreeRecipientInfo(key, publicKey, issuerAndSerial(recipientCertDer));
  const eci = seq(oid(CMS.data), algorithm(contentOid, octets(iv)), tlv(0x80, ciphertext));
  return seq(oid(CMS.envelopedData), context(0, seq(integer(type === 'rsa' ? 0 : 2), setOf(recipient), eci)));
}
