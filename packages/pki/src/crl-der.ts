import * as der from './der.ts';
import { extensionInner, readExtension } from './extensions-der.ts';
import { decodeName } from './extensions-der.ts';
import type { DistinguishedName } from './names.ts';
import { OID_EXT } from './oids.ts';
import { integerToSerialHex } from './serial.ts';

/**
 * CRL encoding and decoding with der.ts (RFC 5280 section 5.1). A CRL carries one entry per
 * revoked certificate: through asn1-schema a 10,000-entry CRL took seconds to sign and could
 * not be parsed at all (asn1js' node-count limit), so CRLs take this path; crl.test.ts checks it
 * against asn1-x509's CertificateList byte for byte.
 */

export interface CrlEntryDer { serialContent: Uint8Array; revokedAt: Date; reasonCode?: number }
export interface TbsCertListParts {
  algorithmDer: Uint8Array; issuerNameDer: Uint8Array; thisUpdate: Date; nextUpdate: Date; entries: CrlEntryDer[];
  authorityKeyId: Uint8Array; crlNumberContent: Uint8Array;
}

function ext(oid: string, value: Uint8Array): Uint8Array {
  return der.seq(der.oid(oid), der.octets(value));
}

export function tbsCertListDer(p: TbsCertListParts): Uint8Array {
  const entries = p.entries.map((e) => der.seq(
    der.tlv(0x02, e.serialContent),
    der.time(e.revokedAt),
    ...(e.reasonCode === undefined ? [] : [der.seq(ext(OID_EXT.crlReason, der.tlv(0x0a, new Uint8Array([e.reasonCode]))))]),
  ));
  return der.seq(
    der.smallInt(1),
    p.algorithmDer,
    p.issuerNameDer,
    der.time(p.thisUpdate),
    der.time(p.nextUpdate),
    // RFC 5280 section 5.1.2.6: when there are no revoked certificates the list MUST be absent.
    ...(entries.length ? [der.seq(...entries)] : []),
    der.tlv(0xa0, der.seq(
      ext(OID_EXT.authorityKeyIdentifier, der.seq(der.tlv(0x80, p.authorityKeyId))),
      ext(OID_EXT.crlNumber, der.tlv(0x02, p.crlNumberContent)),
    )),
  );
}

export interface FastCrl {
  crlNumberHex?: string;
  thisUpdate: Date;
  nextUpdate?: Date;
  issuer: DistinguishedName;
  authorityKeyIdentifier?: string;
  revoked: { serialHex: string; revokedAt: Date; reasonCode?: number }[];
}

/** Decodes a plain-DER v2 CRL; throws (any error) when the general decoder must take over. */
export function decodeCrlFast(buf: Uint8Array): FastCrl {
  const outer = der.readTlv(buf, 0);
  if (outer.end !== buf.length) throw new der.DerError('trailing data');
  const [tbs, alg, sig, extra] = der.children(buf, der.expect(outer, 0x30));
  der.algorithmOid(buf, alg);
  if (extra || der.bytes(buf, der.expect(sig, 0x03))[0] !== 0) throw new der.DerError('layout');
  const f = der.children(buf, der.expect(tbs, 0x30));
  let i = 0;
  if (der.raw(buf, der.expect(f[i++], 0x02)).join() !== '2,1,1') throw new der.DerError('not v2');
  der.algorithmOid(buf, f[i++]);
  const out: FastCrl = { issuer: decodeName(buf, f[i++]), thisUpdate: der.decodeTime(buf, f[i++]), revoked: [] };
  if (f[i]?.tag === 0x17 || f[i]?.tag === 0x18) out.nextUpdate = der.decodeTime(buf, f[i++]);
  if (f[i]?.tag === 0x30) {
    for (const entry of der.children(buf, f[i++] as der.Tlv)) {
      const [serial, when, exts, more] = der.children(buf, der.expect(entry, 0x30));
      if (more) throw new der.DerError('extra entry field');
      const item: FastCrl['revoked'][number] = { serialHex: integerToSerialHex(der.bytes(buf, der.expect(serial, 0x02))), revokedAt: der.decodeTime(buf, when) };
      for (const e of exts ? der.children(buf, der.expect(exts, 0x30)) : []) {
        const { raw, value } = readExtension(buf, e);
        if (raw.oid !== OID_EXT.crlReason) continue;
        const code = der.bytes(buf, der.expect(extensionInner(buf, value), 0x0a));
        if (code.length !== 1) throw new der.DerError('reasonCode');
        item.reasonCode = code[0];
      }
      out.revoked.push(item);
    }
  }
  if (f[i]?.tag === 0xa0) {
    const [list, more] = der.children(buf, f[i++] as der.Tlv);
    if (more) throw new der.DerError('extra crlExtensions');
    for (const e of der.children(buf, der.expect(list, 0x30))) {
      const { raw, value } = readExtension(buf, e);
      if (raw.oid === OID_EXT.crlNumber) {
        const n = der.bytes(buf, der.expect(extensionInner(buf, value), 0x02));
        if (n.length === 0 || ((n[0] as number) & 0x80) !== 0) throw new der.DerError('negative CRL number');
        out.crlNumberHex = Buffer.from(n).toString('hex');
      } else if (raw.oid === OID_EXT.authorityKeyIdentifier) {
        const [id, x] = der.children(buf, der.expect(extensionInner(buf, value), 0x30));
        if (x || id?.tag !== 0x80) throw new der.DerError('AuthorityKeyIdentifier form');
        out.authorityKeyIdentifier = Buffer.from(der.bytes(buf, id)).toString('hex');
      }
    }
  }
  if (f[i]) throw new der.DerError('extra TBSCertList field');
  return out;
}
