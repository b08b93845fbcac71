import { createHash } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints,
  CRLDistributionPoints, DistributionPoint, DistributionPointName, ExtendedKeyUsage, Extension,
  GeneralName, KeyIdentifier, KeyUsage as AsnKeyUsage, KeyUsageFlags, SubjectAlternativeName,
  SubjectKeyIdentifier, SubjectPublicKeyInfo,
} from '@peculiar/asn1-x509';
import { PkiError, guard } from './errors.ts';
import { OID_AD_CA_ISSUERS, OID_AD_OCSP, OID_EXT } from './oids.ts';
import { generalNamesToSans, sanToGeneralName, type San } from './sans.ts';
import { arrayBufferOf } from './der.ts';

/**
 * X.509 v3 extensions (RFC 5280 section 4.2): builders for what Certbridge writes and
 * readers for what policies check. Every reader throws PkiError MALFORMED on bad content.
 */

export type KeyUsage = 'digitalSignature' | 'nonRepudiation' | 'keyEncipherment' | 'dataEncipherment' | 'keyAgreement'
  | 'keyCertSign' | 'cRLSign' | 'encipherOnly' | 'decipherOnly';
/** RFC 5280 section 4.2.1.3 bit order. */
export const KEY_USAGES: readonly KeyUsage[] = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment',
  'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'];

export interface RawExtension { oid: string; critical: boolean; valueDer: Uint8Array }

export function extension(oid: string, critical: boolean, value: object | ArrayBuffer): Extension {
  const der = value instanceof ArrayBuffer ? value : AsnConvert.serialize(value);
  return new Extension({ extnID: oid, critical, extnValue: new OctetString(der) });
}

export function toRawExtension(ext: Extension): RawExtension {
  return { oid: ext.extnID, critical: ext.critical, valueDer: new Uint8Array(ext.extnValue.buffer) };
}

export function fromRawExtension(raw: RawExtension): Extension {
  if (!/^[0-2](\.\d+)+$/.test(raw.oid)) throw new PkiError('MALFORMED', `extension OID "${raw.oid}" is not dotted decimal`);
  const bytes = raw.valueDer;
  return new Extension({ extnID: raw.oid, critical: raw.critical, extnValue: new OctetString(arrayBufferOf(bytes)) });
}

export function keyUsageExtension(usages: readonly KeyUsage[]): Extension {
  let flags = 0;
  for (const u of usages) {
    const bit = KeyUsageFlags[u];
    if (bit === undefined) throw new PkiError('MALFORMED', `unknown key usage "${String(u)}"`);
    flags |= bit;
  }
  // Critical: RFC 5280 section 4.2.1.3 says conforming CAs SHOULD mark it critical.
  return extension(OID_EXT.keyUsage, true, new AsnKeyUsage(flags));
}

export function readKeyUsage(valueDer: ArrayBuffer): KeyUsage[] {
  const flags = guard('keyUsage extension', () => AsnConvert.parse(valueDer, AsnKeyUsage).toNumber());
  return KEY_USAGES.filter((u) => (flags & KeyUsageFlags[u]) !== 0);
}

export function extendedKeyUsageExtension(oids: readonly string[]): Extension {
  for (const oid of oids) if (!/^[0-2](\.\d+)+$/.test(oid)) throw new PkiError('MALFORMED', `EKU "${oid}" is not an OID`);
  return extension(OID_EXT.extKeyUsage, false, new ExtendedKeyUsage([...oids]));
}

export function readExtendedKeyUsage(valueDer: ArrayBuffer): string[] {
  return guard('extKeyUsage extension', () => [...AsnConvert.parse(valueDer, ExtendedKeyUsage)]);
}

/** SAN is critical when the subject is empty (RFC 5280 section 4.2.1.6). */
export function subjectAltNameExtension(sans: readonly San[], subjectEmpty: boolean): Extension {
  return extension(OID_EXT.subjectAltName, subjectEmpty, new SubjectAlternativeName(sans.map(sanToGeneralName)));
}

export function readSubjectAltName(valueDer: ArrayBuffer): { sans: San[]; other: string[] } {
  return guard('subjectAltName extension', () => generalNamesToSans([...AsnConvert.parse(valueDer, SubjectAlternativeName)]));
}

export function basicConstraintsExtension(ca: { pathLength?: number } | undefined): Extension {
  const bc = ca ? new BasicConstraints({ cA: true, pathLenConstraint: ca.pathLength }) : new BasicConstraints({ cA: false });
  return extension(OID_EXT.basicConstraints, true, bc);
}

export function readBasicConstraints(valueDer: ArrayBuffer): BasicConstraints {
  return guard('basicConstraints extension', () => AsnConvert.parse(valueDer, BasicConstraints));
}

/** Key identifier method (1) of RFC 5280 section 4.2.1.2: SHA-1 of the subjectPublicKey BIT STRING contents. */
export function keyIdentifier(spki: SubjectPublicKeyInfo): Uint8Array {
  return new Uint8Array(createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest());
}

export function subjectKeyIdentifierExtension(ski: Uint8Array): Extension {
  return extension(OID_EXT.subjectKeyIdentifier, false, new SubjectKeyIdentifier(arrayBufferOf(ski)));
}

export function authorityKeyIdentifierExtension(aki: Uint8Array): Extension {
  return extension(OID_EXT.authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(arrayBufferOf(aki)) }));
}

export function readKeyIdentifier(valueDer: ArrayBuffer, aki: boolean): Uint8Array | undefined {
  return guard(aki ? 'authorityKeyIdentifier extension' : 'subjectKeyIdentifier extension', () => {
    if (!aki) return new Uint8Array(AsnConvert.parse(valueDer, SubjectKeyIdentifier).buffer);
    const id = AsnConvert.parse(valueDer, AuthorityKeyIdentifier).keyIdentifier;
    return id ? new Uint8Array(id.buffer) : undefined;
  });
}

/** Authority information access (RFC 5280 section 4.2.2.1): caIssuers and OCSP URLs. */
export function authorityInfoAccessExtension(aia: { caIssuers?: string[]; ocsp?: string[] }): Extension {
  const uri = (method: string, url: string): AccessDescription =>
    new AccessDescription({ accessMethod: method, accessLocation: sanToGeneralName({ type: 'uri', value: url }) });
  const items = [...(aia.ocsp ?? []).map((u) => uri(OID_AD_OCSP, u)), ...(aia.caIssuers ?? []).map((u) => uri(OID_AD_CA_ISSUERS, u))];
  return extension(OID_EXT.authorityInfoAccess, false, new AuthorityInfoAccessSyntax(items));
}

/** CRL distribution points (RFC 5280 section 4.2.1.13), one fullName URI per point. */
export function crlDistributionPointsExtension(urls: readonly string[]): Extension {
  const points = urls.map((u) => new DistributionPoint({
    distributionPoint: new DistributionPointName({ fullName: [sanToGeneralName({ type: 'uri', value: u }) as GeneralName] }),
  }));
  return extension(OID_EXT.crlDistributionPoints, false, new CRLDistributionPoints(points));
}
