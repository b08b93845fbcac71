import * as der from './der.ts';
import { PkiError } from './errors.ts';
import { ipToBytes } from './ip.ts';
import { KEY_USAGES, type KeyUsage, type RawExtension } from './extensions.ts';
import type { DistinguishedName } from './names.ts';
import { OID_AD_CA_ISSUERS, OID_AD_OCSP, OID_EXT } from './oids.ts';
import { OID_UPN, type San } from './sans.ts';
import type { CertificateTemplate } from './certificate.ts';

/**
 * TBSCertificate encoding (RFC 5280 section 4.1) with the DER writer of der.ts; see there for
 * why this path does not go through asn1-schema. certificate-der.test.ts checks every output
 * byte for byte against the same structure built with @peculiar/asn1-x509 classes.
 */

const PRINTABLE_CHARS = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
const IA5_OIDS = new Set(['1.2.840.113549.1.9.1', '0.9.2342.19200300.100.1.25']);
const PRINTABLE_OIDS = new Set(['2.5.4.6', '2.5.4.5']);
const ASCII = /^[\x00-\x7f]*$/;

/** Name in ASN.1 order (the list is RFC 4514 order, see names.ts), one attribute per RDN. */
export function nameDer(dn: DistinguishedName): Uint8Array {
  const rdns: Uint8Array[] = [];
  for (let i = dn.length - 1; i >= 0; i--) {
    const a = dn[i] as DistinguishedName[number];
    if (typeof a.value !== 'string' || a.value.length === 0) throw new PkiError('MALFORMED', `name attribute ${a.type} is empty`);
    let value: Uint8Array;
    if (IA5_OIDS.has(a.oid)) {
      if (!ASCII.test(a.value)) throw new PkiError('MALFORMED', `${a.type} must be ASCII`);
      value = der.ia5(a.value);
    } else if (PRINTABLE_OIDS.has(a.oid) && PRINTABLE_CHARS.test(a.value)) {
      value = der.printable(a.value);
    } else {
      value = der.utf8(a.value);
    }
    if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(a.oid)) throw new PkiError('MALFORMED', `name attribute "${a.type}" has a bad OID`);
    rdns.push(der.set(der.seq(der.oid(a.oid), value)));
  }
  return der.seq(...rdns);
}

const ASCII_VISIBLE = /^[\x21-\x7e]+$/;

// The helpers of the encoders below are module functions, not closures made per call: the tsx
// loader names every closure it creates (Object.defineProperty), microseconds each, and these
// run several times per issued certificate.
const badSan = (san: San, why: string): PkiError => new PkiError('MALFORMED', `SAN ${san.type}:${String(san.value)}: ${why}`);
const latin = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

export function generalNameDer(san: San): Uint8Array {
  if (typeof san?.value !== 'string' || san.value.length === 0) throw badSan(san, 'empty value');
  switch (san.type) {
    case 'dns':
      if (!ASCII_VISIBLE.test(san.value)) throw badSan(san, 'DNS names must be ASCII (use punycode A-labels)');
      return der.tlv(0x82, latin(san.value));
    case 'ip':
      try { return der.tlv(0x87, ipToBytes(san.value)); } catch { throw badSan(san, 'not an IPv4 or IPv6 address'); }
    case 'email':
      if (!ASCII_VISIBLE.test(san.value) || !san.value.includes('@')) throw badSan(san, 'not an ASCII mailbox');
      return der.tlv(0x81, latin(san.value));
    case 'uri':
      if (!ASCII_VISIBLE.test(san.value) || !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(san.value)) throw badSan(san, 'not an absolute URI');
      return der.tlv(0x86, latin(san.value));
    case 'upn':
      return der.tlv(0xa0, der.oid(OID_UPN), der.tlv(0xa0, der.utf8(san.value)));
    default:
      throw new PkiError('UNSUPPORTED', `SAN type "${String(san.type)}" is not supported`);
  }
}

function ext(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? der.seq(der.oid(oid), der.TRUE, der.octets(value)) : der.seq(der.oid(oid), der.octets(value));
}

const URI = (u: string): Uint8Array => generalNameDer({ type: 'uri', value: u });

/** Encoded extensions in order, and which OIDs are in. */
class ExtensionList {
  readonly out: Uint8Array[] = [];
  readonly seen = new Set<string>();
  add(oid: string, critical: boolean, value: Uint8Array): void {
    this.seen.add(oid);
    this.out.push(ext(oid, critical, value));
  }
}

/** The extensions of buildExtensions in certificate-extensions.ts, same order and content. */
export function extensionsDer(tpl: CertificateTemplate, ski: Uint8Array, aki: Uint8Array): Uint8Array[] {
  const list = new ExtensionList();
  const bc = tpl.ca ? [der.TRUE, ...(tpl.ca.pathLength !== undefined ? [der.smallInt(tpl.ca.pathLength)] : [])] : [];
  list.add(OID_EXT.basicConstraints, true, der.seq(...bc));
  if (tpl.keyUsages && tpl.keyUsages.length > 0) {
    const bits = tpl.keyUsages.map((u: KeyUsage) => {
      const i = KEY_USAGES.indexOf(u);
      if (i < 0) throw new PkiError('MALFORMED', `unknown key usage "${String(u)}"`);
      return i;
    });
    list.add(OID_EXT.keyUsage, true, der.namedBits(bits));
  }
  if (tpl.extendedKeyUsages && tpl.extendedKeyUsages.length > 0) {
    for (const o of tpl.extendedKeyUsages) if (!/^[0-2](\.\d+)+$/.test(o)) throw new PkiError('MALFORMED', `EKU "${o}" is not an OID`);
    list.add(OID_EXT.extKeyUsage, false, der.seq(...tpl.extendedKeyUsages.map(der.oid)));
  }
  list.add(OID_EXT.subjectKeyIdentifier, false, der.octets(ski));
  list.add(OID_EXT.authorityKeyIdentifier, false, der.seq(der.tlv(0x80, aki)));
  if (tpl.sans && tpl.sans.length > 0) list.add(OID_EXT.subjectAltName, tpl.subject.length === 0, der.seq(...tpl.sans.map(generalNameDer)));
  else if (tpl.subject.length === 0) throw new PkiError('MALFORMED', 'a certificate needs a subject or at least one SAN (RFC 5280 section 4.1.2.6)');
  const ocsp = tpl.aia?.ocsp ?? [];
  const caIssuers = tpl.aia?.caIssuers ?? [];
  if (ocsp.length + caIssuers.length > 0) {
    list.add(OID_EXT.authorityInfoAccess, false, der.seq(
      ...ocsp.map((u) => der.seq(der.oid(OID_AD_OCSP), URI(u))), ...caIssuers.map((u) => der.seq(der.oid(OID_AD_CA_ISSUERS), URI(u)))));
  }
  if (tpl.crlDistributionPoints && tpl.crlDistributionPoints.length > 0) {
    list.add(OID_EXT.crlDistributionPoints, false, der.seq(...tpl.crlDistributionPoints.map((u) => der.seq(der.tlv(0xa0, der.tlv(0xa0, URI(u)))))));
  }
  for (const raw of tpl.extraExtensions ?? ([] as RawExtension[])) {
    if (!/^[0-2](\.\d+)+$/.test(raw.oid)) throw new PkiError('MALFORMED', `extension OID "${raw.oid}" is not dotted decimal`);
    // RFC 5280 section 4.2: a certificate MUST NOT include more than one instance of an extension.
    if (list.seen.has(raw.oid)) throw new PkiError('MALFORMED', `extension ${raw.oid} appears twice`);
    list.add(raw.oid, raw.critical, raw.valueDer);
  }
  return list.out;
}

export interface TbsParts {
  serialContent: Uint8Array; algorithmDer: Uint8Array; issuerNameDer: Uint8Array; notBefore: Date; notAfter: Date;
  subjectNameDer: Uint8Array; spkiDer: Uint8Array; extensions: Uint8Array[];
}

export function tbsCertificateDer(p: TbsParts): Uint8Array {
  return der.seq(
    der.tlv(0xa0, der.smallInt(2)),
    der.tlv(0x02, p.serialContent),
    p.algorithmDer,
    p.issuerNameDer,
    der.seq(der.time(p.notBefore), der.time(p.notAfter)),
    p.subjectNameDer,
    p.spkiDer,
    der.tlv(0xa3, der.seq(...p.extensions)),
  );
}
