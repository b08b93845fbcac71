/**
 * Microsoft-specific certificate extensions the emulator writes so issued certificates look like
 * ADCS output ([MS-WCCE] 2.2.2.7.7 and the certificate template extensions in [MS-CRTD] 2.x).
 */
import * as asn1js from 'asn1js';
import { createHash } from 'node:crypto';
import { x509 } from './crypto.ts';

/** szOID_ENROLL_CERTTYPE_EXTENSION: BMPString template name (V1 templates). */
export const OID_CERTTYPE_NAME = '1.3.6.1.4.1.311.20.2';
/** szOID_CERTIFICATE_TEMPLATE: V2+ template OID and version. */
export const OID_CERTIFICATE_TEMPLATE = '1.3.6.1.4.1.311.21.7';
/** szOID_CERTSRV_CA_VERSION: CA certificate / key index, 0 for a CA never renewed. */
export const OID_CA_VERSION = '1.3.6.1.4.1.311.21.1';

export function templateNameExtension(cn: string): x509.Extension {
  return new x509.Extension(OID_CERTTYPE_NAME, false, new asn1js.BmpString({ value: cn }).toBER());
}

/**
 * CertificateTemplate ::= SEQUENCE {
 *   templateID              EncodedObjectID,
 *   templateMajorVersion    TemplateVersion,
 *   templateMinorVersion    TemplateVersion OPTIONAL }
 */
export function templateOidExtension(oid: string, major: number, minor: number): x509.Extension {
  const seq = new asn1js.Sequence({
    value: [
      new asn1js.ObjectIdentifier({ value: oid }),
      new asn1js.Integer({ value: major }),
      new asn1js.Integer({ value: minor }),
    ],
  });
  return new x509.Extension(OID_CERTIFICATE_TEMPLATE, false, seq.toBER());
}

/** szOID_APPLICATION_CERT_POLICIES: ADCS mirrors a V2+ template's EKUs as application policies. */
export const OID_APPLICATION_POLICIES = '1.3.6.1.4.1.311.21.10';

/** CertificatePolicies-shaped list: SEQUENCE OF SEQUENCE { policyIdentifier OBJECT IDENTIFIER }. */
export function applicationPoliciesExtension(oids: string[]): x509.Extension {
  const seq = new asn1js.Sequence({
    value: oids.map((oid) => new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid })] })),
  });
  return new x509.Extension(OID_APPLICATION_POLICIES, false, seq.toBER());
}

export function caVersionExtension(): x509.Extension {
  // INTEGER 0: certificate index 0, key index 0.
  return new x509.Extension(OID_CA_VERSION, false, new Uint8Array([0x02, 0x01, 0x00]));
}

/** Reads the template a CSR names in its extensions: `{ name }` (V1) or `{ oid }` (V2+). */
export function templateFromExtension(ext: x509.Extension): { name?: string; oid?: string } {
  const parsed = asn1js.fromBER(ext.value);
  if (parsed.offset === -1) return {};
  const node = parsed.result;
  if (ext.type === OID_CERTTYPE_NAME && node instanceof asn1js.BmpString) return { name: node.valueBlock.value };
  if (ext.type === OID_CERTIFICATE_TEMPLATE && node instanceof asn1js.Sequence) {
    const first = node.valueBlock.value[0];
    if (first instanceof asn1js.ObjectIdentifier) return { oid: first.valueBlock.toString() };
  }
  return {};
}

/**
 * A stable msPKI-Cert-Template-OID for a template without one. Real forests use
 * 1.3.6.1.4.1.311.21.8.<forest-random arcs>.<hash arcs>; the arcs here come from the CN hash.
 */
export function deriveTemplateOid(cn: string): string {
  const h = createHash('sha256').update(cn).digest();
  const arcs = [0, 4, 8, 12, 16, 20].map((i) => h.readUInt32BE(i) % 16_777_216);
  return `1.3.6.1.4.1.311.21.8.${arcs.join('.')}`;
}
