import * as der from './der.ts';
import { bytesToIp } from './ip.ts';
import { KEY_USAGES, type KeyUsage, type RawExtension } from './extensions.ts';
import { nameAttributeFromOid, type DistinguishedName } from './names.ts';
import { OID_UPN, type San } from './sans.ts';

/**
 * DER readers for Names and the extensions policies look at (RFC 5280 sections 4.1.2.4 and
 * 4.2), shared by the fast CSR and certificate decoders. They throw on anything unusual so the
 * caller can fall back to the asn1-schema decoders (see der.ts).
 */

const ASCII = /^[\x00-\x7f]*$/;

/** A Name as attributes in RFC 4514 order (see names.ts). */
export function decodeName(buf: Uint8Array, name: der.Tlv | undefined): DistinguishedName {
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

/** GeneralNames into SANs; otherNames other than UPN are listed in `other`, other forms throw. */
export function readSans(buf: Uint8Array, t: der.Tlv): { sans: San[]; other: string[] } {
  const sans: San[] = [];
  const other: string[] = [];
  for (const gn of der.children(buf, der.expect(t, 0x30))) {
    switch (gn.tag) {
      case 0x82: sans.push({ type: 'dns', value: ia5(buf, gn) }); break;
      case 0x81: sans.push({ type: 'email', value: ia5(buf, gn) }); break;
      case 0x86: sans.push({ type: 'uri', value: ia5(buf, gn) }); break;
      case 0x87: {
        const b = der.bytes(buf, gn);
        if (b.length !== 4 && b.length !== 16) throw new der.DerError('iPAddress length');
        sans.push({ type: 'ip', value: bytesToIp(b) });
        break;
      }
      case 0xa0: {
        const [typeId, value, extra] = der.children(buf, gn);
        const oid = der.decodeOid(buf, typeId as der.Tlv);
        if (extra || !value || value.tag !== 0xa0) throw new der.DerError('bad otherName');
        if (oid !== OID_UPN) { other.push(`otherName:${oid}`); break; }
        const [inner, more] = der.children(buf, value);
        if (more) throw new der.DerError('bad UPN');
        sans.push({ type: 'upn', value: der.decodeString(buf, der.expect(inner, 0x0c)) });
        break;
      }
      default: throw new der.DerError(`GeneralName tag 0x${gn.tag.toString(16)}`);
    }
  }
  return { sans, other };
}

export function readKeyUsage(buf: Uint8Array, t: der.Tlv): KeyUsage[] {
  const b = der.bytes(buf, der.expect(t, 0x03));
  const unused = b[0] ?? 8;
  if (unused > 7 || (b.length === 1 && unused !== 0)) throw new der.DerError('bad BIT STRING');
  // DER (X.690 section 11.2.1): the unused trailing bits are zero.
  if (b.length > 1 && ((b[b.length - 1] as number) & ((1 << unused) - 1)) !== 0) throw new der.DerError('non-zero unused bits');
  return KEY_USAGES.filter((_u, i) => ((b[1 + (i >> 3)] ?? 0) & (0x80 >> (i & 7))) !== 0);
}

/** The single TLV inside an extension's extnValue OCTET STRING (`value` from readExtension). */
export function extensionInner(buf: Uint8Array, value: der.Tlv): der.Tlv {
  const v = der.readTlv(buf, value.body, value.end);
  if (v.end !== value.end) throw new der.DerError('trailing data in extension');
  return v;
}

/**
 * One Extension: its raw form and its extnValue OCTET STRING, which `extensionInner` reads when
 * the extension is interpreted (a plain function, not a per-extension closure: the tsx loader
 * names every closure it creates, which costs more than the read).
 */
export function readExtension(buf: Uint8Array, t: der.Tlv): { raw: RawExtension; value: der.Tlv } {
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
  return {
    raw: { oid, critical, valueDer: der.bytes(buf, value).slice() },
    value,
  };
}
