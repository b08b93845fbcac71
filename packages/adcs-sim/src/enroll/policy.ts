/**
 * The enterprise policy module's decision for one request: which template, whether the caller
 * may enroll in it, whether the key is large enough, and whether a CA manager must approve.
 * Disposition messages are the ones Windows writes: the policy module prefixes its HRESULT with
 * "Denied by Policy Module  " (two spaces) and appends the error text.
 */
import type { x509 } from '../ca/crypto.ts';
import type { TemplateConfig, UserConfig } from '../config.ts';
import { hex, hresult, type HResult } from '../hresult.ts';
import { templateFromExtension, deriveTemplateOid, OID_CERTTYPE_NAME, OID_CERTIFICATE_TEMPLATE } from '../ca/ms-extensions.ts';
import { publicKeyBits } from './cert-request.ts';

export type PolicyVerdict =
  | { kind: 'issue'; template: TemplateConfig }
  | { kind: 'pend'; template: TemplateConfig; message: string }
  | { kind: 'deny'; templateName: string; error: HResult; message: string };

/** Groups every authenticated account belongs to in AD. */
const IMPLICIT_GROUPS = ['Authenticated Users', 'Domain Users'];

export function templateOid(t: TemplateConfig): string {
  return t.oid ?? deriveTemplateOid(t.cn);
}

/** May `user` enroll in `template`? (Enroll right on the template's security descriptor.) */
export function mayEnroll(template: TemplateConfig, user: UserConfig): boolean {
  const principals = new Set([user.name, ...user.groups, ...IMPLICIT_GROUPS].map((p) => p.toLowerCase()));
  return template.enroll.some((e) => principals.has(e.toLowerCase()));
}

function denied(templateName: string, name: Parameters<typeof hresult>[0], text?: string): PolicyVerdict {
  const error = hresult(name);
  return { kind: 'deny', templateName, error, message: `Denied by Policy Module  ${hex(error.code)}, ${text ?? error.message}` };
}

/** Names the template: the CertificateTemplate attribute first, else the request's template extension. */
export function requestedTemplate(attrs: Map<string, string>, csr: x509.Pkcs10CertificateRequest): { name?: string; oid?: string } {
  const attr = attrs.get('certificatetemplate');
  if (attr) return { name: attr };
  for (const ext of csr.extensions) {
    if (ext.type === OID_CERTTYPE_NAME || ext.type === OID_CERTIFICATE_TEMPLATE) return templateFromExtension(ext);
  }
  return {};
}

/** Runs the policy checks in the order the enterprise policy module applies them. */
export async function evaluatePolicy(input: {
  attrs: Map<string, string>;
  csr: x509.Pkcs10CertificateRequest;
  user: UserConfig;
  templates: TemplateConfig[];
}): Promise<PolicyVerdict> {
  const wanted = requestedTemplate(input.attrs, input.csr);
  const label = wanted.name ?? wanted.oid;
  if (!label) return denied('', 'CERTSRV_E_NO_CERT_TYPE');
  // A CertificateTemplate attribute may carry the CN or the template OID.
  const template = input.templates.find(
    (t) => t.cn.toLowerCase() === label.toLowerCase() || templateOid(t) === label,
  );
  if (!template) {
    return denied(
      label,
      'CERTSRV_E_UNSUPPORTED_CERT_TYPE',
      `The request was for a certificate template that is not supported by the Active Directory Certificate Services policy: ${label}.`,
    );
  }
  if (!mayEnroll(template, input.user)) return denied(template.cn, 'CERTSRV_E_TEMPLATE_DENIED');
  if ((await publicKeyBits(input.csr)) < template.minKeySize && input.csr.publicKey.algorithm.name !== 'ECDSA') {
    return denied(template.cn, 'CERTSRV_E_KEY_LENGTH');
  }
  if (template.issuance === 'manager') return { kind: 'pend', template, message: 'Taken Under Submission' };
  return { kind: 'issue', template };
}
