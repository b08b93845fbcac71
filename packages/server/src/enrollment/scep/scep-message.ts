import { createHash, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import { AsnConvert } from '@peculiar/asn1-schema';
import { ContentInfo, IssuerAndSerialNumber, SignedData, type SignerInfo } from '@peculiar/asn1-cms';
import { Certificate } from '@peculiar/asn1-x509';
import { AppError } from '../../errors.ts';
import { issuerAndSerial } from './cms-envelope.ts';
import { algorithm, context, integer, octets, oid, printable, seq, setOf } from './der-writer.ts';
import { CMS, DIGESTS, DIGEST_OID_BY_NAME, FAIL_INFO, PKI_STATUS, SCEP_ATTR, SIGNATURE_DIGESTS, type FailInfo } from './scep-oids.ts';

/** A SCEP pkiMessage (RFC 8894 section 3.2) after its SignedData layer is read. */
export interface PkiMessage {
  messageType: number;
  transactionId: string;
  senderNonce: Uint8Array;
  signerCertificateDer: Uint8Array;
  digestName: string;
  /** The signature over the authenticated attributes and the messageDigest of the content both verify. */
  signatureValid: boolean;
  /** The pkcsPKIEnvelope (a ContentInfo of envelopedData), DER. */
  envelope: Uint8Array | undefined;
}

const malformed = (message: string, cause?: unknown) => new AppError('BAD_REQUEST', message, undefined, { cause });

function attributeValue(signer: SignerInfo, type: string): Uint8Array | undefined {
  const attr = signer.signedAttrs?.find((a) => a.attrType === type);
  return attr?.attrValues[0] ? new Uint8Array(attr.attrValues[0]) : undefined;
}

function readString(der: Uint8Array | undefined): string | undefined {
  if (!der) return undefined;
  const parsed = asn1js.fromBER(der);
  const block = parsed.result;
  if (parsed.offset === -1 || !(block instanceof asn1js.PrintableString || block instanceof asn1js.Utf8String || block instanceof asn1js.IA5String)) return undefined;
  return block.valueBlock.value;
}

function readOctets(der: Uint8Array | undefined): Uint8Array | undefined {
  if (!der) return undefined;
  const parsed = asn1js.fromBER(der);
  return parsed.offset !== -1 && parsed.result instanceof asn1js.OctetString ? new Uint8Array(parsed.result.getValue()) : undefined;
}

/**
 * The exact bytes of the first signer's [0] IMPLICIT signedAttrs, as sent: the signature covers
 * them (re-tagged as SET), and asn1-schema does not keep the raw encoding of SET OF fields.
 */
function rawSignedAttributes(der: Uint8Array): Uint8Array | undefined {
  const parsed = asn1js.fromBER(der);
  const child = (block: asn1js.AsnType | undefined, pick: (items: asn1js.AsnType[]) => asn1js.AsnType | undefined) => {
    const items = (block as asn1js.Sequence | undefined)?.valueBlock?.value;
    return Array.isArray(items) ? pick(items) : undefined;
  };
  const content = child(parsed.result, (items) => items[1]);
  const signedData = child(content, (items) => items[0]);
  const signerInfos = child(signedData, (items) => items.at(-1));
  const signer = child(signerInfos, (items) => items[0]);
  const attrs = child(signer, (items) => items.find((b) => b.idBlock.tagClass === 3 && b.idBlock.tagNumber === 0));
  return attrs ? new Uint8Array(attrs.valueBeforeDecodeView) : undefined;
}

function sameSigner(signer: SignerInfo, certDer: Uint8Array): boolean {
  const ias = signer.sid.issuerAndSerialNumber;
  if (!ias) return false;
  return Buffer.from(issuerAndSerial(certDer)).equals(Buffer.from(AsnConvert.serialize(ias)));
}

/**
 * Reads and verifies the SignedData of a pkiMessage. Throws BAD_REQUEST (answered with HTTP 400)
 * when it is not one; a message that parses but whose signature fails comes back with
 * `signatureValid: false`, to be answered with a signed FAILURE badMessageCheck.
 */
export function decodePkiMessage(der: Uint8Array): PkiMessage {
  let signed: SignedData;
  try {
    const info = AsnConvert.parse(der, ContentInfo);
    if (info.contentType !== CMS.signedData) throw malformed(`the pkiMessage is ${info.contentType}, not signedData`);
    signed = AsnConvert.parse(info.content, SignedData);
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw malformed('the pkiMessage is not a CMS SignedData', err);
  }
  const signer = signed.signerInfos[0];
  const signedAttrsDer = rawSignedAttributes(der);
  if (!signer?.signedAttrs || !signedAttrsDer) throw malformed('the pkiMessage has no signer with authenticated attributes');
  const messageType = Number(readString(attributeValue(signer, SCEP_ATTR.messageType)));
  const transactionId = readString(attributeValue(signer, SCEP_ATTR.transactionId));
  const senderNonce = readOctets(attributeValue(signer, SCEP_ATTR.senderNonce));
  if (!Number.isInteger(messageType) || !transactionId || !senderNonce) throw malformed('the pkiMessage lacks messageType, transactionID or senderNonce');
  const certs = (signed.certificates ?? []).filter((c) => c.certificate).map((c) => new Uint8Array(AsnConvert.serialize(c.certificate!)));
  const signerCertificateDer = certs.find((c) => sameSigner(signer, c)) ?? (certs.length === 1 ? certs[0] : undefined);
  if (!signerCertificateDer) throw malformed('the pkiMessage does not carry its signer certificate');
  const digestName = DIGESTS[signer.digestAlgorithm.algorithm];
  if (!digestName) throw new AppError('BAD_REQUEST', `digest ${signer.digestAlgorithm.algorithm} is not supported`, { failInfo: 'badAlg' });
  const e = signed.encapContentInfo.eContent;
  const content = e?.single ? new Uint8Array(e.single.buffer) : e?.any ? new Uint8Array(e.any) : undefined;
  return { messageType, transactionId, senderNonce, signerCertificateDer, digestName, envelope: content, signatureValid: verifySigner(signer, signedAttrsDer, signerCertificateDer, digestName, content) };
}

function verifySigner(signer: SignerInfo, signedAttrsDer: Uint8Array, certDer: Uint8Array, digestName: string, content: Uint8Array | undefined): boolean {
  try {
    const digest = readOctets(attributeValue(signer, CMS.messageDigest));
    const actual = createHash(digestName).update(content ?? new Uint8Array()).digest();
    if (!digest || !actual.equals(Buffer.from(digest))) return false;
    const attrs = Buffer.from(signedAttrsDer);
    attrs[0] = 0x31; // signed over as SET OF, carried as [0] IMPLICIT (RFC 5652 section 5.4)
    const cert = AsnConvert.parse(certDer, Certificate);
    const key = createPublicKey({ key: Buffer.from(AsnConvert.serialize(cert.tbsCertificate.subjectPublicKeyInfo)), format: 'der', type: 'spki' });
    const hash = SIGNATURE_DIGESTS[signer.signatureAlgorithm.algorithm] ?? digestName;
    return verify(hash, attrs, key, Buffer.from(signer.signature.buffer));
  } catch {
    return false; // an unreadable key or signature is a signature that does not verify
  }
}

/** The serial number (hex, as stored) in an IssuerAndSerialNumber (GetCert, GetCRL). */
export function readIssuerAndSerial(der: Uint8Array): string {
  try {
    const ias = AsnConvert.parse(der, IssuerAndSerialNumber);
    return Buffer.from(ias.serialNumber).toString('hex').replace(/^(00)+(?=.)/, '');
  } catch (err) {
    throw malformed('the message content is not an IssuerAndSerialNumber', err);
  }
}

const attribute = (type: string, value: Uint8Array) => seq(oid(type), setOf(value));

export interface CertRepInput {
  ra: { certificateDer: Uint8Array; privateKey: KeyObject };
  digestName: string;
  transactionId: string;
  recipientNonce: Uint8Array;
  status: keyof typeof PKI_STATUS;
  failInfo?: FailInfo;
  /** The pkcsPKIEnvelope of a SUCCESS. */
  envelope?: Uint8Array;
}

/** A CertRep (RFC 8894 section 3.3.2) signed by the RA with every SCEP authenticated attribute. */
export function buildCertRep(input: CertRepInput): Uint8Array {
  const digestOid = DIGEST_OID_BY_NAME[input.digestName] ?? DIGEST_OID_BY_NAME['sha256']!;
  const digestName = DIGESTS[digestOid]!;
  const content = input.envelope ?? new Uint8Array();
  const attrs = setOf(
    attribute(CMS.contentType, oid(CMS.data)),
    attribute(CMS.messageDigest, octets(createHash(digestName).update(content).digest())),
    attribute(SCEP_ATTR.messageType, printable('3')),
    attribute(SCEP_ATTR.pkiStatus, printable(PKI_STATUS[input.status])),
    ...(input.failInfo ? [attribute(SCEP_ATTR.failInfo, printable(FAIL_INFO[input.failInfo]))] : []),
    attribute(SCEP_ATTR.transactionId, printable(input.transactionId)),
    attribute(SCEP_ATTR.senderNonce, octets(randomBytes(16))),
    attribute(SCEP_ATTR.recipientNonce, octets(input.recipientNonce)),
  );
  const signature = sign(digestName, attrs, input.ra.privateKey);
  const implicitAttrs = Uint8Array.from(attrs);
  implicitAttrs[0] = 0xa0;
  const signerInfo = seq(integer(1), issuerAndSerial(input.ra.certificateDer), algorithm(digestOid), implicitAttrs, algorithm(CMS.rsaEncryption, Uint8Array.of(0x05, 0x00)), octets(signature));
  // PENDING and FAILURE carry an empty eContent: OpenSSL (certmonger) refuses to verify a SignedData without content.
  const encap = seq(oid(CMS.data), context(0, octets(content)));
  const signedData = seq(integer(1), setOf(algorithm(digestOid)), encap, context(0, input.ra.certificateDer), setOf(signerInfo));
  return seq(oid(CMS.signedData), context(0, signedData));
}

/** A degenerate certs-only SignedData that may also carry CRLs (GetCRL, RFC 8894 section 3.3.2.2). */
export function buildDegenerate(certs: Uint8Array[], crls: Uint8Array[] = []): Uint8Array {
  const signedData = seq(integer(1), setOf(), seq(oid(CMS.data)), ...(certs.length ? [context(0, ...certs)] : []), ...(crls.length ? [context(1, ...crls)] : []), setOf());
  return seq(oid(CMS.signedData), context(0, signedData));
}
