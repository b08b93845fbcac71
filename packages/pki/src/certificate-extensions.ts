import type { Extension, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { PkiError } from './errors.ts';
import {
  authorityInfoAccessExtension, authorityKeyIdentifierExtension, basicConstraintsExtension, crlDistributionPointsExtension,
  extendedKeyUsageExtension, fromRawExtension, keyIdentifier, keyUsageExtension, readBasicConstraints, readExtendedKeyUsage,
  readKeyIdentifier, readKeyUsage, readSubjectAltName, subjectAltNameExtension, subjectKeyIdentifierExtension, toRawExtension,
  type KeyUsage, type RawExtension,
} from './extensions.ts';
import { OID_EXT } from './oids.ts';
import type { San } from './sans.ts';
import type { CertificateTemplate } from './certificate.ts';
import { arrayBufferOf } from './der.ts';

/** Extensions of certificates (RFC 5280 section 4.2) as asn1-x509 structures: the reader of the general decoder, and the builder. */

/**
 * The extension list of an issued certificate built from asn1-x509 classes. Issuance encodes
 * with certificate-der.ts for speed; this is the reference certificate-der.test.ts compares
 * that encoding against, byte for byte.
 */
export function buildExtensions(tpl: CertificateTemplate, spki: SubjectPublicKeyInfo, issuerKeyId: Uint8Array | undefined): Extension[] {
  const ski = keyIdentifier(spki);
  const exts: Extension[] = [basicConstraintsExtension(tpl.ca)];
  if (tpl.keyUsages && tpl.keyUsages.length > 0) exts.push(keyUsageExtension(tpl.keyUsages));
  if (tpl.extendedKeyUsages && tpl.extendedKeyUsages.length > 0) exts.push(extendedKeyUsageExtension(tpl.extendedKeyUsages));
  exts.push(subjectKeyIdentifierExtension(ski));
  // Self-signed: AKI = own SKI, as OpenSSL does; RFC 5280 section 4.2.1.1 allows it and chain builders use it.
  exts.push(authorityKeyIdentifierExtension(issuerKeyId ?? ski));
  if (tpl.sans && tpl.sans.length > 0) exts.push(subjectAltNameExtension(tpl.sans, tpl.subject.length === 0));
  else if (tpl.subject.length === 0) throw new PkiError('MALFORMED', 'a certificate needs a subject or at least one SAN (RFC 5280 section 4.1.2.6)');
  if (tpl.aia && ((tpl.aia.caIssuers?.length ?? 0) > 0 || (tpl.aia.ocsp?.length ?? 0) > 0)) exts.push(authorityInfoAccessExtension(tpl.aia));
  if (tpl.crlDistributionPoints && tpl.crlDistributionPoints.length > 0) exts.push(crlDistributionPointsExtension(tpl.crlDistributionPoints));
  const seen = new Set(exts.map((e) => e.extnID));
  for (const raw of tpl.extraExtensions ?? []) {
    // RFC 5280 section 4.2: a certificate MUST NOT include more than one instance of an extension.
    if (seen.has(raw.oid)) throw new PkiError('MALFORMED', `extension ${raw.oid} appears twice`);
    seen.add(raw.oid);
    exts.push(fromRawExtension(raw));
  }
  return exts;
}

export interface ReadExtensions {
  sans: San[];
  isCa: boolean;
  pathLength?: number;
  keyUsages: KeyUsage[];
  extendedKeyUsages: string[];
  subjectKeyIdentifier?: string;
  authorityKeyIdentifier?: string;
  raw: RawExtension[];
}

export function readCertificateExtensions(exts: Iterable<Extension>): ReadExtensions {
  const out: ReadExtensions = { sans: [], isCa: false, keyUsages: [], extendedKeyUsages: [], raw: [] };
  for (const ext of exts) {
    const raw = toRawExtension(ext);
    out.raw.push(raw);
    const value = arrayBufferOf(raw.valueDer);
    switch (raw.oid) {
      case OID_EXT.subjectAltName: out.sans = readSubjectAltName(value).sans; break;
      case OID_EXT.basicConstraints: {
        const bc = readBasicConstraints(value);
        out.isCa = bc.cA;
        if (bc.cA && bc.pathLenConstraint !== undefined) out.pathLength = bc.pathLenConstraint;
        break;
      }
      case OID_EXT.keyUsage: out.keyUsages = readKeyUsage(value); break;
      case OID_EXT.extKeyUsage: out.extendedKeyUsages = readExtendedKeyUsage(value); break;
      case OID_EXT.subjectKeyIdentifier: out.subjectKeyIdentifier = hex(readKeyIdentifier(value, false)); break;
      case OID_EXT.authorityKeyIdentifier: out.authorityKeyIdentifier = hex(readKeyIdentifier(value, true)); break;
      default: break;
    }
  }
  return out;
}

function hex(bytes: Uint8Array | undefined): string | undefined {
  return bytes ? Buffer.from(bytes).toString('hex') : undefined;
}
