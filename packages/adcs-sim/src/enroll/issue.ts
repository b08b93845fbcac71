/**
 * Builds and signs the certificate for an approved request from the template, the request and
 * (where CA flags allow) the request attributes, the way the enterprise CA composes it.
 */
import { x509, randomSerial, domainComponents } from '../ca/crypto.ts';
import { signWithIssuing, type Authority } from '../ca/authority.ts';
import { applicationPoliciesExtension, templateNameExtension, templateOidExtension } from '../ca/ms-extensions.ts';
import type { CaFlags, TemplateConfig, UserConfig } from '../config.ts';
import { parseSanAttribute, requestedEndDate } from './attributes.ts';
import { templateOid } from './policy.ts';

export interface IssueInput {
  authority: Authority;
  template: TemplateConfig;
  csr: x509.Pkcs10CertificateRequest;
  attrs: Map<string, string>;
  user: UserConfig;
  dnsDomain: string;
  caFlags: CaFlags;
  /** Where the CA publishes its certificate and CRL (CDP / AIA), e.g. https://host:port/CertEnroll. */
  publication: { crlUrl: string; caCertUrl: string };
  now?: Date;
}

/** ADCS back-dates notBefore by the CA's ClockSkewMinutes (default 10). */
const CLOCK_SKEW_MS = 10 * 60_000;
const SAN_OID = '2.5.29.17';

const kuFlags: Record<TemplateConfig['keyUsage'][number], number> = {
  digitalSignature: x509.KeyUsageFlags.digitalSignature,
  nonRepudiation: x509.KeyUsageFlags.nonRepudiation,
  keyEncipherment: x509.KeyUsageFlags.keyEncipherment,
  dataEncipherment: x509.KeyUsageFlags.dataEncipherment,
  keyAgreement: x509.KeyUsageFlags.keyAgreement,
  keyCertSign: x509.KeyUsageFlags.keyCertSign,
  cRLSign: x509.KeyUsageFlags.cRLSign,
};

function subjectAltName(input: IssueInput): x509.Extension | undefined {
  if (input.template.subject === 'account') {
    const names: x509.JsonGeneralName[] = [{ type: 'upn', value: `${input.user.name}@${input.dnsDomain}` }];
    if (input.user.email) names.push({ type: 'email', value: input.user.email });
    return new x509.SubjectAlternativeNameExtension(names);
  }
  // EDITF_ATTRIBUTESUBJECTALTNAME2: a SAN attribute replaces the request's SAN extension.
  const attr = input.attrs.get('san');
  if (input.caFlags.attributeSubjectAltName2 && attr) {
    const entries = parseSanAttribute(attr);
    if (entries.length > 0) return new x509.SubjectAlternativeNameExtension(entries);
  }
  return input.csr.extensions.find((e) => e.type === SAN_OID);
}

function endDate(input: IssueInput, notBefore: Date): Date {
  const caEnd = input.authority.issuing.certificate.notAfter;
  let end = new Date(notBefore.getTime() + CLOCK_SKEW_MS + input.template.validityDays * 86_400_000);
  if (input.caFlags.attributeEndDate) {
    const requested = requestedEndDate(input.attrs, new Date(notBefore.getTime() + CLOCK_SKEW_MS));
    if (requested && requested > notBefore) end = requested;
  }
  // The CA never issues beyond its own certificate's expiry.
  return end > caEnd ? caEnd : end;
}

/** Signs the certificate; returns it with its serial number. */
export async function issueCertificate(input: IssueInput): Promise<x509.X509Certificate> {
  const now = input.now ?? new Date();
  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  const t = input.template;
  const subject =
    t.subject === 'account' ? `CN=${input.user.name}, CN=Users, ${domainComponents(input.dnsDomain)}` : input.csr.subjectName;
  const extensions: x509.Extension[] = [
    t.schemaVersion === 1 ? templateNameExtension(t.cn) : templateOidExtension(templateOid(t), t.majorVersion, t.minorVersion),
    new x509.KeyUsagesExtension(t.keyUsage.reduce((acc, k) => acc | kuFlags[k], 0), true),
    await x509.SubjectKeyIdentifierExtension.create(input.csr.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(input.authority.issuing.keys.publicKey),
  ];
  if (t.extendedKeyUsage.length > 0) {
    extensions.push(new x509.ExtendedKeyUsageExtension(t.extendedKeyUsage));
    if (t.schemaVersion >= 2) extensions.push(applicationPoliciesExtension(t.extendedKeyUsage));
  }
  // The default ADCS CDP and AIA point at the CertEnroll virtual directory (the LDAP entries a
  // real enterprise CA also writes are left out: there is no directory here).
  extensions.push(new x509.CRLDistributionPointsExtension([input.publication.crlUrl]));
  extensions.push(new x509.AuthorityInfoAccessExtension({ caIssuers: input.publication.caCertUrl }));
  if (t.isCa) extensions.push(new x509.BasicConstraintsExtension(true, undefined, true));
  const san = subjectAltName(input);
  if (san) extensions.push(san);
  return signWithIssuing(input.authority, {
    serialNumber: randomSerial(19),
    subject,
    notBefore,
    notAfter: endDate(input, notBefore),
    publicKey: input.csr.publicKey,
    extensions,
  });
}
