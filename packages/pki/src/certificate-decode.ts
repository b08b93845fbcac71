import * as der from './der.ts';
import type { KeyUsage, RawExtension } from './extensions.ts';
import { decodeName, extensionInner, readExtension, readKeyUsage, readSans } from './extensions-der.ts';
import type { DistinguishedName } from './names.ts';
import { OID_EXT } from './oids.ts';
import type { San } from './sans.ts';
import { integerToSerialHex } from './serial.ts';

/**
 * Fast X.509 decoding (RFC 5280 section 4.1) with der.ts, for the certificates Certbridge
 * issues and stores at high rates. Like csr-der.ts it throws on anything unusual and
 * `parseCertificate` then uses the asn1-schema decoder; certificate-decode.test.ts checks that
 * both agree.
 */

export interface FastCertificate {
  serialHex: string; issuer: DistinguishedName; subject: DistinguishedName; notBefore: Date; notAfter: Date; spkiDer: Uint8Array;
  signatureAlgorithmOid: string; sans: San[]; isCa: boolean; pathLength?: number; keyUsages: KeyUsage[]; extendedKeyUsages: string[];
  subjectKeyIdentifier?: string; authorityKeyIdentifier?: string; extensions: RawExtension[];
}

function keyId(buf: Uint8Array, t: der.Tlv, aki: boolean): string | undefined {
  if (!aki) return Buffer.from(der.bytes(buf, der.expect(t, 0x04))).toString('hex');
  // Only the common form, keyIdentifier alone; issuer+serial forms go to the general decoder.
  const [id, more] = der.children(buf, der.expect(t, 0x30));
  if (more || id?.tag !== 0x80) throw new der.DerError('AuthorityKeyIdentifier form');
  return Buffer.from(der.bytes(buf, id)).toString('hex');
}

/** basicConstraints (RFC 5280 section 4.2.1.9) in strict DER: cA only when TRUE, pathLen only after it. */
function basicConstraints(buf: Uint8Array, t: der.Tlv): { isCa: boolean; pathLength?: number } {
  const [ca, len, more] = der.children(buf, der.expect(t, 0x30));
  if (!ca) return { isCa: false };
  const flag = der.bytes(buf, der.expect(ca, 0x01));
  if (more || flag.length !== 1 || flag[0] !== 0xff) throw new der.DerError('basicConstraints form');
  if (!len) return { isCa: true };
  const n = der.bytes(buf, der.expect(len, 0x02));
  if (n.length === 0 || n.length > 2 || ((n[0] as number) & 0x80) !== 0) throw new der.DerError('pathLenConstraint');
  return { isCa: true, pathLength: Number.parseInt(Buffer.from(n).toString('hex'), 16) };
}

export function decodeCertificateFast(buf: Uint8Array): FastCertificate {
  const outer = der.readTlv(buf, 0);
  if (outer.end !== buf.length) throw new der.DerError('trailing data');
  const [tbs, alg, sig, extra] = der.children(buf, der.expect(outer, 0x30));
  if (extra || der.bytes(buf, der.expect(sig, 0x03))[0] !== 0) throw new der.DerError('extra field or signature unused bits');
  const f = der.children(buf, der.expect(tbs, 0x30));
  if (f[0]?.tag !== 0xa0 || der.raw(buf, f[0]).join() !== '160,3,2,1,2') throw new der.DerError('not v3');
  const [, serial, innerAlg, issuer, validity, subject, spki, ...rest] = f;
  der.algorithmOid(buf, innerAlg);
  const [notBefore, notAfter, v3] = der.children(buf, der.expect(validity, 0x30));
  if (v3) throw new der.DerError('extra validity field');
  const out: FastCertificate = {
    serialHex: integerToSerialHex(der.bytes(buf, der.expect(serial, 0x02))), issuer: decodeName(buf, issuer), subject: decodeName(buf, subject),
    notBefore: der.decodeTime(buf, notBefore), notAfter: der.decodeTime(buf, notAfter), spkiDer: der.raw(buf, der.expect(spki, 0x30)).slice(),
    signatureAlgorithmOid: der.algorithmOid(buf, alg),
    sans: [], isCa: false, keyUsages: [], extendedKeyUsages: [], extensions: [],
  };
  // Only an extensions block may follow (issuer/subjectUniqueID are not worth a fast path).
  if (rest.length > 1 || (rest[0] && rest[0].tag !== 0xa3)) throw new der.DerError('unique identifiers');
  const extList = rest[0] ? der.children(buf, der.expect(der.children(buf, rest[0])[0], 0x30)) : [];
  for (const e of extList) {
    const { raw, value } = readExtension(buf, e);
    out.extensions.push(raw);
    switch (raw.oid) {
      case OID_EXT.subjectAltName: out.sans = readSans(buf, extensionInner(buf, value)).sans; break;
      case OID_EXT.basicConstraints: {
        const bc = basicConstraints(buf, extensionInner(buf, value));
        out.isCa = bc.isCa;
        if (bc.pathLength !== undefined) out.pathLength = bc.pathLength;
        break;
      }
      case OID_EXT.keyUsage: out.keyUsages = readKeyUsage(buf, extensionInner(buf, value)); break;
      case OID_EXT.extKeyUsage: out.extendedKeyUsages = der.children(buf, der.expect(extensionInner(buf, value), 0x30)).map((o) => der.decodeOid(buf, o)); break;
      case OID_EXT.subjectKeyIdentifier: out.subjectKeyIdentifier = keyId(buf, extensionInner(buf, value), false); break;
      case OID_EXT.authorityKeyIdentifier: out.authorityKeyIdentifier = keyId(buf, extensionInner(buf, value), true); break;
      default: break;
    }
  }
  return out;
}

/** The signed parts of a plain-DER certificate (RFC 5280 section 4.1.1), after a full fast decode. */
export function signedEnvelope(buf: Uint8Array): { tbs: Uint8Array; algorithmOid: string; hasParameters: boolean; signature: Uint8Array } {
  decodeCertificateFast(buf);
  const [tbs, alg, sig] = der.children(buf, der.readTlv(buf, 0)) as [der.Tlv, der.Tlv, der.Tlv];
  const [oid, params] = der.children(buf, alg);
  return {
    tbs: der.raw(buf, tbs), algorithmOid: der.decodeOid(buf, oid as der.Tlv), hasParameters: params !== undefined && params.tag !== 0x05,
    signature: der.bytes(buf, sig).subarray(1),
  };
}
