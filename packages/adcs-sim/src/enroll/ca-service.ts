/**
 * The CA as certsrv sees it through ICertRequest and certsrv.msc sees it through ICertAdmin:
 * submit, retrieve pending, resubmit (approve), deny, revoke, and publish a CRL. No HTTP here.
 */
import type { Authority } from '../ca/authority.ts';
import { createCrl } from '../ca/authority.ts';
import type { CaFlags, TemplateConfig, UserConfig } from '../config.ts';
import { describe, hresult, type HResult } from '../hresult.ts';
import type { RequestRecord, RequestTable } from '../state/requests.ts';
import { parseAttributes } from './attributes.ts';
import { decodeCertRequest } from './cert-request.ts';
import { issueCertificate } from './issue.ts';
import { evaluatePolicy } from './policy.ts';

/** What certfnsh.asp renders after a submit. */
export type SubmitOutcome =
  | { kind: 'issued' | 'pending' | 'denied'; record: RequestRecord }
  /** The request could not be processed: "Error Parsing Request" style page (no Request ID shown). */
  | { kind: 'error'; record: RequestRecord; error: HResult; info: string };

export interface CaServiceDeps {
  authority: Authority;
  table: RequestTable;
  domain: string;
  dnsDomain: string;
  caManager: string;
  templates: () => TemplateConfig[];
  caFlags: () => CaFlags;
  publication: () => { crlUrl: string; caCertUrl: string };
  now?: () => Date;
}

export type AdminResult = { ok: true; record: RequestRecord } | { ok: false; code: 'NOT_FOUND' | 'WRONG_STATE'; message: string };

export class CaService {
  constructor(private readonly deps: CaServiceDeps) {}

  private now(): string {
    return (this.deps.now?.() ?? new Date()).toISOString();
  }

  private qualified(name: string): string {
    return `${this.deps.domain}\\${name}`;
  }

  /** ICertRequest::Submit as certfnsh.asp calls it. */
  async submit(user: UserConfig, certRequest: string, certAttrib: string): Promise<SubmitOutcome> {
    const attrs = parseAttributes(certAttrib);
    const base: RequestRecord = {
      id: this.deps.table.allocateId(),
      requester: this.qualified(user.name),
      submittedAt: this.now(),
      template: '',
      request: '',
      attributes: Object.fromEntries(attrs),
      disposition: 'failed',
      dispositionMessage: '',
      status: 0,
    };
    const decoded = await decodeCertRequest(certRequest);
    base.request = decoded.der.toString('base64');
    if (!decoded.ok) {
      // The disposition message joins the step and the HRESULT text with two spaces, as ADCS does.
      const dispositionMessage = `${decoded.info}  ${describe(decoded.error)}`;
      const record = this.deps.table.put({ ...base, dispositionMessage, status: decoded.error.code, resolvedAt: this.now() });
      return { kind: 'error', record, error: decoded.error, info: decoded.info };
    }
    const verdict = await evaluatePolicy({ attrs, csr: decoded.csr, user, templates: this.deps.templates() });
    if (verdict.kind === 'deny') {
      const record = this.deps.table.put({
        ...base,
        template: verdict.templateName,
        disposition: 'denied',
        dispositionMessage: verdict.message,
        status: verdict.error.code,
        resolvedAt: this.now(),
      });
      return { kind: 'denied', record };
    }
    if (verdict.kind === 'pend') {
      const record = this.deps.table.put({ ...base, template: verdict.template.cn, disposition: 'pending', dispositionMessage: verdict.message });
      return { kind: 'pending', record };
    }
    const cert = await issueCertificate({ ...this.issueContext(), template: verdict.template, csr: decoded.csr, attrs, user });
    const record = this.deps.table.put({
      ...base,
      template: verdict.template.cn,
      disposition: 'issued',
      dispositionMessage: 'Issued',
      certificate: Buffer.from(cert.rawData).toString('base64'),
      serialNumber: cert.serialNumber,
      resolvedAt: this.now(),
    });
    return { kind: 'issued', record };
  }

  private issueContext(): { authority: Authority; dnsDomain: string; caFlags: CaFlags; publication: { crlUrl: string; caCertUrl: string } } {
    return { authority: this.deps.authority, dnsDomain: this.deps.dnsDomain, caFlags: this.deps.caFlags(), publication: this.deps.publication() };
  }

  get(id: number): RequestRecord | undefined {
    return this.deps.table.get(id);
  }

  list(): RequestRecord[] {
    return this.deps.table.list();
  }

  /** ICertAdmin::ResubmitRequest: issues a pending (or denied) request, as a CA manager would. */
  async approve(id: number, users: UserConfig[]): Promise<AdminResult> {
    const rec = this.deps.table.get(id);
    if (!rec) return { ok: false, code: 'NOT_FOUND', message: `request ${id} does not exist` };
    if (rec.disposition !== 'pending' && rec.disposition !== 'denied') {
      return { ok: false, code: 'WRONG_STATE', message: `request ${id} is ${rec.disposition}` };
    }
    const template = this.deps.templates().find((t) => t.cn === rec.template);
    const decoded = await decodeCertRequest(rec.request);
    const userName = rec.requester.split('\\')[1] ?? rec.requester;
    const user = users.find((u) => u.name.toLowerCase() === userName.toLowerCase()) ?? { name: userName, password: '', groups: [] };
    if (!template || !decoded.ok) return { ok: false, code: 'WRONG_STATE', message: `request ${id} has no usable template or request` };
    const attrs = new Map(Object.entries(rec.attributes));
    const cert = await issueCertificate({ ...this.issueContext(), template, csr: decoded.csr, attrs, user });
    const updated = this.deps.table.put({
      ...rec,
      disposition: 'issued',
      dispositionMessage: `Resubmitted by ${this.qualified(this.deps.caManager)}`,
      status: 0,
      certificate: Buffer.from(cert.rawData).toString('base64'),
      serialNumber: cert.serialNumber,
      resolvedAt: this.now(),
    });
    return { ok: true, record: updated };
  }

  /** ICertAdmin::DenyRequest: only pending requests can be denied. */
  deny(id: number): AdminResult {
    const rec = this.deps.table.get(id);
    if (!rec) return { ok: false, code: 'NOT_FOUND', message: `request ${id} does not exist` };
    if (rec.disposition !== 'pending') return { ok: false, code: 'WRONG_STATE', message: `request ${id} is ${rec.disposition}` };
    const updated = this.deps.table.put({
      ...rec,
      disposition: 'denied',
      dispositionMessage: `Denied by ${this.qualified(this.deps.caManager)}`,
      status: hresult('CERTSRV_E_ADMIN_DENIED_REQUEST').code,
      resolvedAt: this.now(),
    });
    return { ok: true, record: updated };
  }

  /** ICertAdmin::RevokeCertificate with a CRL reason code (RFC 5280 5.3.1). */
  revoke(id: number, reason: number): AdminResult {
    const rec = this.deps.table.get(id);
    if (!rec) return { ok: false, code: 'NOT_FOUND', message: `request ${id} does not exist` };
    if (rec.disposition !== 'issued') return { ok: false, code: 'WRONG_STATE', message: `request ${id} is ${rec.disposition}` };
    const updated = this.deps.table.put({
      ...rec,
      disposition: 'revoked',
      dispositionMessage: `Revoked by ${this.qualified(this.deps.caManager)}`,
      revokedAt: this.now(),
      revocationReason: reason,
    });
    return { ok: true, record: updated };
  }

  /** A freshly signed base CRL listing every revoked certificate. */
  async crl(): Promise<ArrayBuffer> {
    const revoked = this.deps.table
      .list()
      .filter((r) => r.disposition === 'revoked' && r.serialNumber && r.revokedAt)
      .map((r) => ({ serialNumber: r.serialNumber ?? '', revokedAt: new Date(r.revokedAt ?? 0), reason: r.revocationReason ?? 0 }));
    const crl = await createCrl(this.deps.authority, revoked, this.deps.table.nextCrlNumber());
    return crl.rawData;
  }
}
