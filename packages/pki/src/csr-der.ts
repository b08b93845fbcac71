import * as der from './der.ts';
import { bytesToIp } from './ip.ts';
import { KEY_USAGES, type KeyUsage, type RawExtension } from './extensions.ts';
import type { DistinguishedName } from './names.ts';
import { nameAttributeFromOid } from './names.ts';
import { OID_EXT } from './oids.ts';
import { OID_UPN, type San } from './sans.ts';

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
const ASCII = /^[\x00-\x7f]*$/;

export function decodeName(buf: Uint8Array, name: der.Tlv): DistinguishedName {
  const rdns = der.children(buf, der.expect(name, 0x30));
  const dn: DistinguishedName = [];
  for (let i = rdns.length - 1; i >= 0; i--) {
    for (const atv of der.children(buf, der.expect(rdns[i], 0x31))) {
      const [type, value, extra] = der.children(buf, der.expect(atv, 0x30));
      if (extra || !value) throw new der.DerError('bad AttributeTypeAndValue');
      dn.push(nameAttributeFromOid(der.decodeOid(buf, type as der.Tlv), der.decodeString(buf, value)));
    }
  }
  return dn;
}

function ia5(buf: Uint8Array, t: der.Tlv): string {
  const s = Buffer.from(der.bytes(buf, t)).toString('latin1');
  if (!ASCII.test(s)) throw new der.DerError('non-ASCII IA5String');
  return s;
}

function readSans(buf: Uint8Array, t: der.Tlv, out: FastCsr): void {
  for (const gn of der.children(buf, der.expect(t, 0x30))) {
    switch (gn.tag) {
      case 0x82: out.sans.push({ type: 'dns', value: ia5(buf, gn) }); break;
      case 0x81: out.sans.push({ type: 'email', value: ia5(buf, gn) }); break;
      case 0x86: out.sans.push({ type: 'uri', value: ia5(buf, gn) }); break;
      case 0x87: {
        const b = der.bytes(buf, gn);
        if (b.length !== 4 && b.length !== 16) throw new der.DerError('iPAddress length');
        out.sans.push({ type: 'ip', value: bytesToIp(b) });
        break;
      }
      case 0xa0: {
        const [typeId, value, extra] = der.children(buf, gn);
        const oid = der.decodeOid(buf, typeId as der.Tlv);
        if (extra || !value || value.tag !== 0xa0) throw new der.DerError('bad otherName');
        if (oid !== OID_UPN) { out.otherSans.push(`otherName:${oid}`); break; }
        const [inner, more] = der.children(buf, value);
        if (more) throw new der.DerError('bad UPN');
        out.sans.push({ type: 'upn', value: der.decodeString(buf, der.expect(inner, 0x0c)) });
        break;
      }
      default: throw new der.DerError(`GeneralName tag 0x${gn.tag.toString(16)}`);
    }
  }
}

function readKeyUsage(buf: Uint8Array, t: der.Tlv): KeyUsage[] {
  const b = der.bytes(buf, der.expect(t, 0x03));
  if (b.length < 1 || (b[0] as number) > 7 || (b.length === 1 && b[0] !== 0)) throw new der.DerError('bad BIT STRING');
  return KEY_USAGES.filter((_u, i) => ((b[1 + (i >> 3)] ?? 0) & (0x80 >> (i & 7))) !== 0);
}

function readExtension(buf: Uint8Array, t: der.Tlv, out: FastCsr): void {
  const parts = der.children(buf, der.expect(t, 0x30));
  const oid = der.decodeOid(buf, parts[0] as der.Tlv);
  let i = 1;
  let critical = false;
  if (parts[i]?.tag === 0x01) {
    const v = der.bytes(buf, parts[i] as der.Tlv);
    if (v.length !== 1) throw new der.DerError('bad BOOLEAN');
    critical = v[0] !== 0;
    i++;
  }
  const value = der.expect(parts[i], 0x04);
  if (parts[i + 1]) throw new der.DerError('extra Extension field');
  const valueDer = der.bytes(buf, value);
  out.extensions.push({ oid, critical, valueDer: valueDer.slice() });
  const inner = (): der.Tlv => {
    const v = der.readTlv(buf, value.body, value.end);
    if (v.end !== value.end) throw new der.DerError('trailing data in extension');
    return v;
  };
  if (oid === OID_EXT.subjectAltName) readSans(buf, inner(), out);
  else if (oid === OID_EXT.keyUsage) out.keyUsages = readKeyUsage(buf, inner());
  else if (oid === OID_EXT.extKeyUsage) out.extendedKeyUsages = der.children(buf, der.expect(inner(), 0x30)).map((o) => der.decodeOid(buf, o));
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
      for (const v of vals) for (const e of der.children(buf, der.expect(v, 0x30))) readExtension(buf, e, out);
    }
  }
  return out;
}
