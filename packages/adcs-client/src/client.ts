/**
 * AdcsClient: the certsrv web enrollment client ([MS-WCCE] over the ASP pages IIS serves).
 *
 * - submit: POST certfnsh.asp `Mode=newreq`, then GET certnew.cer?ReqID=N for the certificate;
 * - retrieve: GET certnew.cer?ReqID=N (certificate, or the `<DL>` disposition page);
 * - checkPending: POST certfnsh.asp `Mode=chkpnd`;
 * - caChain / caCertificates: certcarc.asp `nRenewals`, certnew.p7b / certnew.cer ?ReqID=CACert;
 * - templates: certrqxt.asp.
 * Outcomes are results; a thrown AdcsError means the CA could not be asked or answered nonsense.
 */
import { AdcsError, isAdcsError } from './errors.ts';
import { Transport } from './http/transport.ts';
import type { LaneResponse } from './http/lane.ts';
import { selectAuth, type SelectOptions } from './auth/select.ts';
import { normaliseOptions, type AdcsClientOptions, type NormalisedOptions } from './options.ts';
import { checkPendingForm, newRequestForm, type SubmitInput } from './request-form.ts';
import { contentType, expectOk } from './responses.ts';
import { parseRetrievePage, parseSubmitPage, type PageOutcome } from './pages/outcome.ts';
import { parseTemplates, type TemplateInfo } from './pages/templates.ts';
import { parseCaArchive, type CaArchivePage } from './pages/certcarc.ts';
import { certificatePemFromBody, certificatesFromPkcs7, looksLikeHtml } from './pages/certificates.ts';
import { excerptOf } from './pages/html.ts';
import { orderChain } from './chain.ts';
import { probeAdcs, type ProbeReport } from './probe.ts';

export type SubmitResult =
  | { status: 'issued'; requestId: number; certificatePem: string }
  | { status: 'pending'; requestId: number; dispositionMessage: string }
  | { status: 'denied'; requestId?: number; dispositionMessage: string; hresult?: string };

export interface CaCertificate {
  /** 0 = the original CA certificate, `renewals` = the current one. */
  renewal: number;
  certificatePem: string;
}

export interface TransportCounters {
  handshakes: number;
  requests: number;
}

export class AdcsClient {
  protected readonly options: NormalisedOptions;
  private transport?: Promise<Transport>;

  constructor(private readonly raw: AdcsClientOptions, private readonly select: SelectOptions = {}) {
    this.options = normaliseOptions(raw);
  }

  /** "Test connection": reachability, TLS, auth, EPA, CA name, templates, round trip. Never throws for server faults. */
  probe(): Promise<ProbeReport> {
    return probeAdcs(this.raw, this, (options, channelBindings) => new AdcsClient(options, { channelBindings }));
  }

  /** Submits a PKCS#10 request with `CertificateTemplate` (and SAN / validity) attributes. */
  async submit(input: SubmitInput): Promise<SubmitResult> {
    const res = await this.post('certfnsh.asp', newRequestForm(input), 'submit (certfnsh.asp)', { once: true });
    return this.complete(parseSubmitPage(res.body.toString('utf8'), res.status));
  }

  /** Fetches the certificate of a request, or its current disposition. */
  async retrieve(requestId: number): Promise<SubmitResult> {
    checkRequestId(requestId);
    const res = await this.get(`certnew.cer?ReqID=${requestId}&Enc=b64`, `retrieve request ${requestId} (certnew.cer)`);
    if (looksLikeHtml(res.body, contentType(res))) {
      return this.complete(parseRetrievePage(res.body.toString('utf8'), requestId, res.status), requestId);
    }
    return { status: 'issued', requestId, certificatePem: certificatePemFromBody(res.body, `certnew.cer?ReqID=${requestId}`) };
  }

  /** Asks certfnsh.asp whether a pending request has been decided (`Mode=chkpnd`). */
  async checkPending(requestId: number): Promise<SubmitResult> {
    checkRequestId(requestId);
    const res = await this.post('certfnsh.asp', checkPendingForm(requestId), `check pending request ${requestId}`);
    return this.complete(parseSubmitPage(res.body.toString('utf8'), res.status), requestId);
  }

  /** The current CA certificate chain (issuing CA first, root last) from certnew.p7b. */
  async caChain(): Promise<string[]> {
    const { renewals } = await this.caArchive();
    const res = await this.get(`certnew.p7b?ReqID=CACert&Renewal=${renewals}&Enc=bin`, 'CA chain (certnew.p7b)');
    if (looksLikeHtml(res.body, contentType(res))) throw unexpectedHtml('certnew.p7b returned a page instead of a PKCS#7 chain', res);
    return orderChain(certificatesFromPkcs7(res.body, 'certnew.p7b'));
  }

  /** Every CA certificate the CA has had (renewals 0..nRenewals), oldest first. */
  async caCertificates(): Promise<{ caName?: string; certificates: CaCertificate[] }> {
    const archive = await this.caArchive();
    const certificates: CaCertificate[] = [];
    for (let renewal = 0; renewal <= archive.renewals; renewal++) {
      const res = await this.get(`certnew.cer?ReqID=CACert&Renewal=${renewal}&Enc=bin`, `CA certificate renewal ${renewal}`);
      if (looksLikeHtml(res.body, contentType(res))) throw unexpectedHtml(`certnew.cer?ReqID=CACert&Renewal=${renewal} returned a page`, res);
      certificates.push({ renewal, certificatePem: certificatePemFromBody(res.body, `CA certificate renewal ${renewal}`) });
    }
    return { ...(archive.caName ? { caName: archive.caName } : {}), certificates };
  }

  /** certcarc.asp: the renewal count and CA name. */
  async caArchive(): Promise<CaArchivePage> {
    const res = await this.get('certcarc.asp', 'CA archive page (certcarc.asp)');
    const page = parseCaArchive(res.body.toString('utf8'));
    if (!page) throw unexpectedHtml('certcarc.asp has no nRenewals variable', res);
    return page;
  }

  /** Templates the account may enroll in (certrqxt.asp). */
  async templates(): Promise<TemplateInfo[]> {
    const res = await this.get('certrqxt.asp', 'template list (certrqxt.asp)');
    const templates = parseTemplates(res.body.toString('utf8'));
    if (!templates) throw unexpectedHtml('certrqxt.asp has no lbCertTemplateID list', res);
    return templates;
  }

  /** GET of a certsrv page, relative to the certsrv path; non-2xx becomes an AdcsError. */
  async get(page: string, what: string): Promise<LaneResponse> {
    const transport = await this.connection();
    return expectOk(await transport.request({ method: 'GET', path: this.options.certsrvPath + page }), what);
  }

  /** Handshakes and requests sent so far (one handshake per pooled connection is the goal). */
  async counters(): Promise<TransportCounters> {
    const transport = await this.connection();
    return { ...transport.stats };
  }

  /** Closes pooled connections. The client can be used again afterwards (new connections). */
  async close(): Promise<void> {
    const pending = this.transport;
    this.transport = undefined;
    if (pending) await (await pending.catch(() => undefined))?.close();
  }

  private async post(page: string, body: Buffer, what: string, options: { once?: boolean } = {}): Promise<LaneResponse> {
    const transport = await this.connection();
    return expectOk(await transport.request({ method: 'POST', path: this.options.certsrvPath + page, body, ...options }), what);
  }

  private connection(): Promise<Transport> {
    this.transport ??= selectAuth(this.options, this.select).then((auth) => new Transport({
      baseUrl: this.options.origin,
      rejectUnauthorized: this.options.rejectUnauthorized,
      timeoutMs: this.options.timeoutMs,
      maxSockets: this.options.maxSockets,
      auth,
      ...(this.options.ca ? { ca: this.options.ca } : {}),
    }));
    return this.transport;
  }

  /** Turns a page outcome into a result, fetching the certificate of an issued request. */
  private async complete(outcome: PageOutcome, knownId?: number): Promise<SubmitResult> {
    if (outcome.status === 'issued') {
      let fetched: SubmitResult;
      try {
        fetched = await this.retrieve(outcome.requestId);
      } catch (error) {
        // The CA has issued and recorded this request: submitting again, here or to another
        // server, would issue a second certificate. It is answered as waiting, with its request
        // id, so the caller fetches it later (retrieve) the way it fetches an approved request.
        if (!isAdcsError(error) || !error.retryable) throw error;
        return {
          status: 'pending', requestId: outcome.requestId,
          dispositionMessage: `Issued, but the certificate could not be fetched yet: ${error.message}. Fetching request ${outcome.requestId} again gets it.`,
        };
      }
      if (fetched.status !== 'issued') throw new AdcsError('ADCS_UNEXPECTED_PAGE', `request ${outcome.requestId} was reported issued but certnew.cer says ${fetched.status}`);
      return fetched;
    }
    const requestId = outcome.requestId ?? knownId;
    if (outcome.status === 'pending') {
      if (requestId === undefined) throw new AdcsError('ADCS_UNEXPECTED_PAGE', 'pending page without a request id', { dispositionMessage: outcome.dispositionMessage });
      return { status: 'pending', requestId, dispositionMessage: outcome.dispositionMessage };
    }
    return { ...outcome, ...(requestId === undefined ? {} : { requestId }) };
  }
}

function checkRequestId(requestId: number): void {
  if (!Number.isSafeInteger(requestId) || requestId <= 0) throw new TypeError(`request id must be a positive integer, got ${requestId}`);
}

function unexpectedHtml(message: string, res: LaneResponse): AdcsError {
  return new AdcsError('ADCS_UNEXPECTED_PAGE', message, { httpStatus: res.status, excerpt: excerptOf(res.body.toString('latin1')) });
}
