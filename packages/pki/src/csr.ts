import type { KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Attribute, AttributeValue, Extensions, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { Attributes, CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { PkiError, check, guard } from './errors.ts';
import { toDer } from './pem.ts';
import { describePublicKey, publicKeyFromSpki, spkiOf, type PublicKeyDescription } from './keys.ts';
import { formatDn, fromAsnName, toAsnName, type DistinguishedName } from './names.ts';
import { type San } from './sans.ts';
import { decodeCsrFast, type FastCsr } from './csr-der.ts';
import * as d from './der.ts';
import { describeSpkiFast } from './spki.ts';
import { signBytes, signatureSchemeFor, verifyBytes } from './algorithms.ts';
import {
  fromRawExtension, readExtendedKeyUsage, readKeyUsage, readSubjectAltName, subjectAltNameExtension, toRawExtension,
  type KeyUsage, type RawExtension,
} from './extensions.ts';
import { OID_EXT } from './oids.ts';

/** PKCS#10 certification requests (RFC 2986) with PKCS#9 attributes (RFC 2985 section 5.4). */

const OID_CHALLENGE_PASSWORD = '1.2.840.113549.1.9.7';
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
/** Microsoft's pre-standard extension request attribute, still sent by old Windows clients. */
const OID_MS_EXTENSION_REQUEST = '1.3.6.1.4.1.311.2.1.14';

export interface ParsedCsr {
  der: Uint8Array;
  subject: DistinguishedName;
  /** `formatDn(subject)`, e.g. "CN=a, O=b". */
  subjectText: string;
  sans: San[];
  /** Requested GeneralNames Certbridge does not model (e.g. "directoryName"); policies should refuse them. */
  otherSans: string[];
  spkiDer: Uint8Array;
  publicKey: PublicKeyDescription;
  signatureAlgorithmOid: string;
  keyUsages: KeyUsage[];
  extendedKeyUsages: string[];
  challengePassword?: string;
  extensions: RawExtension[];
}

interface SignedParts { tbs: Uint8Array; algorithm: AlgorithmIdentifier; signature: Uint8Array }
/** The signed bytes of each parsed CSR, so verification does not parse twice; keyed weakly to follow the object's life. */
const signedParts = new WeakMap<ParsedCsr, SignedParts>();

function decodeCsr(der: Uint8Array): CertificationRequest {
  const req = guard('CSR', () => AsnConvert.parse(der, CertificationRequest));
  check(req.certificationRequestInfoRaw, 'CSR: missing certificationRequestInfo');
  check(req.certificationRequestInfo.version === 0, `CSR: version ${req.certificationRequestInfo.version} is not v1 (0)`);
  return req;
}

/**
 * Parses a CSR from PEM ("CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST"), bare base64 or
 * DER. Structure only: call `verifyCsrSignature` before trusting anything in it; it also
 * validates the public key (`publicKey` describes the key's encoding, e.g. an EC point is not
 * checked to lie on its curve until then). The fast decoder of csr-der.ts handles ordinary CSRs; the
 * asn1-schema decoder handles the rest and decides what is malformed.
 */
export function parseCsr(input: string | Uint8Array): ParsedCsr {
  const der = toDer(input, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'], 'CSR');
  let fast: FastCsr | undefined;
  try {
    fast = decodeCsrFast(der);
  } catch {
    // Not an ordinary CSR: the general decoder below gives the verdict and the error message.
  }
  if (!fast || fast.hasAlgorithmParameters) return parseCsrGeneral(der);
  const parsed: ParsedCsr = {
    der, subject: fast.subject, subjectText: formatDn(fast.subject), sans: fast.sans, otherSans: fast.otherSans, spkiDer: fast.spkiDer,
    publicKey: describeSpkiFast(fast.spkiDer) ?? describePublicKey(fast.spkiDer), signatureAlgorithmOid: fast.signatureAlgorithmOid,
    keyUsages: fast.keyUsages, extendedKeyUsages: fast.extendedKeyUsages, extensions: fast.extensions,
    ...(fast.challengePassword !== undefined ? { challengePassword: fast.challengePassword } : {}),
  };
  signedParts.set(parsed, { tbs: fast.tbs, algorithm: new AlgorithmIdentifier({ algorithm: fast.signatureAlgorithmOid }), signature: fast.signature });
  return parsed;
}

/** The asn1-schema decoder: every CSR the fast path declines, and the reference for csr-der.test.ts. */
export function parseCsrGeneral(der: Uint8Array): ParsedCsr {
  const req = decodeCsr(der);
  const info = req.certificationRequestInfo;
  const spkiDer = rawSpki(der) ?? new Uint8Array(AsnConvert.serialize(info.subjectPKInfo));
  const subject = guard('CSR subject', () => fromAsnName(info.subject));
  const parsed: ParsedCsr = {
    der, subject, subjectText: formatDn(subject), sans: [], otherSans: [], spkiDer,
    publicKey: describeSpkiFast(spkiDer) ?? describePublicKey(spkiDer), signatureAlgorithmOid: req.signatureAlgorithm.algorithm,
    keyUsages: [], extendedKeyUsages: [], extensions: [],
  };
  for (const attr of info.attributes) {
    if (attr.type === OID_CHALLENGE_PASSWORD) {
      const first = attr.values[0];
      check(first, 'CSR: challengePassword attribute has no value');
      parsed.challengePassword = guard('CSR challengePassword', () => AsnConvert.parse(first, AttributeValue).toString());
    } else if (attr.type === OID_EXTENSION_REQUEST || attr.type === OID_MS_EXTENSION_REQUEST) {
      for (const value of attr.values) {
        for (const ext of guard('CSR extensionRequest', () => AsnConvert.parse(value, Extensions))) readRequested(parsed, toRawExtension(ext));
      }
    }
  }
  signedParts.set(parsed, {
    tbs: new Uint8Array(req.certificationRequestInfoRaw as ArrayBuffer), algorithm: req.signatureAlgorithm,
    signature: new Uint8Array(req.signature),
  });
  return parsed;
}

/**
 * The SubjectPublicKeyInfo exactly as signed, when the outer layers are plain DER; asn1-schema
 * can only re-encode its decoded copy, which may differ from the bytes on the wire.
 */
function rawSpki(buf: Uint8Array): Uint8Array | undefined {
  try {
    const info = d.children(buf, d.readTlv(buf, 0))[0] as d.Tlv;
    return d.raw(buf, d.children(buf, info)[2] as d.Tlv).slice();
  } catch {
    // BER or otherwise unusual outer layers: the re-encoded SPKI is the best we have.
    return undefined;
  }
}

function readRequested(parsed: ParsedCsr, raw: RawExtension): void {
  parsed.extensions.push(raw);
  const value = d.arrayBufferOf(raw.valueDer);
  if (raw.oid === OID_EXT.subjectAltName) {
    const { sans, other } = readSubjectAltName(value);
    parsed.sans.push(...sans);
    parsed.otherSans.push(...other);
  } else if (raw.oid === OID_EXT.keyUsage) {
    parsed.keyUsages = readKeyUsage(value);
  } else if (raw.oid === OID_EXT.extKeyUsage) {
    parsed.extendedKeyUsages = readExtendedKeyUsage(value);
  }
}

/**
 * Verifies the CSR's self-signature (RFC 2986 section 4.2, proof of possession) with
 * node:crypto, synchronously. False on a wrong signature and on a public key that is not a
 * valid key (e.g. an EC point off its curve). PkiError UNSUPPORTED for a signature algorithm
 * we cannot check; callers must treat that as a refusal, too.
 */
export function verifyCsrSignature(csr: ParsedCsr): boolean {
  // A copy of the parsed object (spread, structuredClone) is not in the WeakMap: decode its DER again.
  const known = signedParts.has(csr) ? csr : parseCsr(csr.der);
  const parts = signedParts.get(known) as SignedParts;
  let key: KeyObject;
  try {
    key = publicKeyFromSpki(known.spkiDer);
  } catch (err) {
    // A key node:crypto cannot load cannot have signed anything.
    if (err instanceof PkiError && err.code === 'MALFORMED') return false;
    throw err;
  }
  return verifyBytes(parts.algorithm, key, parts.tbs, parts.signature);
}

export interface BuildCsrOptions {
  subject: DistinguishedName;
  sans?: San[];
  privateKey: KeyObject;
  publicKey: KeyObject;
  challengePassword?: string;
  extensions?: RawExtension[];
}

/** Builds and signs a PKCS#10 request (DER). Requested extensions go into one extensionRequest attribute. */
export function buildCsr(opts: BuildCsrOptions): Uint8Array {
  const spkiDer = spkiOf(opts.publicKey);
  if (Buffer.compare(spkiOf(opts.privateKey), spkiDer) !== 0) throw new PkiError('MALFORMED', 'buildCsr: private and public key do not match');
  const spki = AsnConvert.parse(spkiDer, SubjectPublicKeyInfo);
  const exts = (opts.extensions ?? []).map(fromRawExtension);
  if (opts.sans && opts.sans.length > 0) exts.unshift(subjectAltNameExtension(opts.sans, opts.subject.length === 0));
  const attributes = new Attributes();
  if (opts.challengePassword !== undefined) {
    const printable = /^[A-Za-z0-9 '()+,\-./:=?]+$/.test(opts.challengePassword);
    const value = printable ? new AttributeValue({ printableString: opts.challengePassword }) : new AttributeValue({ utf8String: opts.challengePassword });
    attributes.push(new Attribute({ type: OID_CHALLENGE_PASSWORD, values: [AsnConvert.serialize(value)] }));
  }
  if (exts.length > 0) {
    attributes.push(new Attribute({ type: OID_EXTENSION_REQUEST, values: [AsnConvert.serialize(new Extensions(exts))] }));
  }
  const info = new CertificationRequestInfo({ version: 0, subject: toAsnName(opts.subject), subjectPKInfo: spki, attributes });
  const scheme = signatureSchemeFor(opts.privateKey);
  const tbs = new Uint8Array(AsnConvert.serialize(info));
  const signature = signBytes(scheme, opts.privateKey, tbs);
  return new Uint8Array(AsnConvert.serialize(new CertificationRequest({
    certificationRequestInfo: info, signatureAlgorithm: scheme.algorithm, signature: d.arrayBufferOf(signature),
  })));
}
