import * as der from './der.ts';
import type { KeyUsage, RawExtension } from './extensions.ts';
import { decodeName, extensionInner, readExtension, readKeyUsage, readSans } from './extensions-der.ts';
import type { DistinguishedName } from './names.ts';
import { OID_EXT } from './oids.ts';
import type { San } from './sans.ts';

/**
 * Fast PKCS#10 decoding (RFC 2986 section 4) with der.ts for the issuance hot path. It
 * understands the CSRs real clients send (DER, single-octet tags, DirectoryString names,
 * PKCS#9 challengePassword and extensionRequest); for anything else it throws and `parseCsr`
 * falls back to the asn1-schema decoder, which is the authority on what is malformed.
 * csr-der.test.ts checks both decoders agree.
 */

export interface FastCsr {
  subject: DistinguishedName;
  spkiDer: Uint8Array;
  signatureAlgorithmOid: string;
  hasAlgorithmParameters: boolean;
  tbs: Uint8Array;
  signature: Uint8Array;
  challengePassword?: string;
  extensions: RawExtension[];
  sans: San[];
  otherSans: string[];
  keyUsages: KeyUsage[];
  extendedKeyUsages: string[];
}

const OID_CHALLENGE_PASSWORD = '1.2.840.113549.1.9.7';
const EXTENSION_REQUEST_OIDS = new Set(['1.2.840.113549.1.9.14', '1.3.6.1.4.1.311.2.1.14']);


function readRequestedExtension(buf: Uint8Array, t: der.Tlv, out: FastCsr): void {
  const { raw, value } = readExtension(buf, t);
  out.extensions.push(raw);
  if (raw.oid === OID_EXT.subjectAltName) {
    const { sans, other } = readSans(buf, extensionInner(buf, value));
    out.sans.push(...sans);
    out.otherSans.push(...other);
  } else if (raw.oid === OID_EXT.keyUsage) {
    out.keyUsages = readKeyUsage(buf, extensionInner(buf, value));
  } else if (raw.oid === OID_EXT.extKeyUsage) {
    out.extendedKeyUsages = der.children(buf, der.expect(extensionInner(buf, value), 0x30)).map((o) => der.decodeOid(buf, o));
  }
}

/** Decodes a DER CertificationRequest; throws (any error) when the general decoder must take over. */
export function decodeCsrFast(buf: Uint8Array): FastCsr {
  const outer = der.readTlv(buf, 0);
  if (outer.end !== buf.length) throw new der.DerError('trailing data');
  const [info, alg, sig, extra] = der.children(buf, der.expect(outer, 0x30));
  if (extra) throw new der.DerError('extra field');
  const [version, subject, spki, attrs, more] = der.children(buf, der.expect(info, 0x30));
  if (more || der.raw(buf, der.expect(version, 0x02)).join() !== '2,1,0') throw new der.DerError('version or layout');
  const [algOid, algParams] = der.children(buf, der.expect(alg, 0x30));
  const sigBytes = der.bytes(buf, der.expect(sig, 0x03));
  if (sigBytes[0] !== 0) throw new der.DerError('unused bits in signature');
  const out: FastCsr = {
    subject: decodeName(buf, subject as der.Tlv), spkiDer: der.raw(buf, der.expect(spki, 0x30)).slice(),
    signatureAlgorithmOid: der.decodeOid(buf, algOid as der.Tlv), hasAlgorithmParameters: algParams !== undefined && algParams.tag !== 0x05,
    tbs: der.raw(buf, info as der.Tlv).slice(), signature: sigBytes.slice(1),
    extensions: [], sans: [], otherSans: [], keyUsages: [], extendedKeyUsages: [],
  };
  for (const attr of der.children(buf, der.expect(attrs, 0xa0))) {
    const [type, values, x] = der.children(buf, der.expect(attr, 0x30));
    if (x) throw new der.DerError('extra Attribute field');
    const oid = der.decodeOid(buf, type as der.Tlv);
    const vals = der.children(buf, der.expect(values, 0x31));
    if (oid === OID_CHALLENGE_PASSWORD) {
      out.challengePassword = der.decodeString(buf, vals[0] as der.Tlv);
    } else if (EXTENSION_REQUEST_OIDS.has(oid)) {
      for (const v of vals) for (const e of der.children(buf, der.expect(v, 0x30))) readRequestedExtension(buf, e, out);
    }
  }
  return out;
}
