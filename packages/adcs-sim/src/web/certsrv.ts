/**
 * The /certsrv virtual directory: decodes each page's query or form, makes one CaService call and
 * renders the certsrv page. Authentication has already happened (auth/gate.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Authority } from '../ca/authority.ts';
import type { TemplateConfig, UserConfig } from '../config.ts';
import type { CaService, SubmitOutcome } from '../enroll/ca-service.ts';
import { mayEnroll } from '../enroll/policy.ts';
import { byCode, describe, hresult } from '../hresult.ts';
import { crDisp, type RequestRecord } from '../state/requests.ts';
import { certificateResponse, chainResponse, crlResponse, encodingOf } from './downloads.ts';
import { parseForm, readBody } from './form.ts';
import type { IisResponse } from './iis.ts';
import { renderCertCarc } from './pages/certcarc.ts';
import { renderCertCkPn } from './pages/certckpn.ts';
import { renderCertRqXt } from './pages/certrqxt.ts';
import { renderErrorPage, type RequestMode } from './pages/error-page.ts';
import { renderDenied, renderIssued, renderPending } from './pages/results.ts';
import { NOT_FOUND_BODY } from './pages/unauthorized.ts';
import { renderRequestChoice, renderWelcome } from './pages/welcome.ts';
import { x509 } from '../ca/crypto.ts';

export interface CertsrvDeps {
  caName: string;
  domain: string;
  authority: Authority;
  service: CaService;
  templates: () => TemplateConfig[];
  maxBodyBytes: number;
}

const SUCCESS = describe(hresult('S_OK'));
/** IIS 7+ ASP answer when a script fails and scriptErrorSentToBrowser is off (the default). */
const ASP_ERROR = 'An error occurred on the server when processing the URL. Please contact the system administrator.';

function html(body: string): IisResponse {
  return { status: 200, contentType: 'text/html', body };
}

function errorPage(deps: CertsrvDeps, mode: RequestMode, fields: { disposition?: number; message: string; lastStatus: string; result?: string }): IisResponse {
  return html(
    renderErrorPage({
      caName: deps.caName,
      mode,
      disposition: fields.disposition,
      dispositionMessage: fields.message,
      result: fields.result ?? SUCCESS,
      comErrorInfo: '',
      lastStatus: fields.lastStatus,
    }),
  );
}

/** Error page for a request that exists but has no certificate to hand out. */
function notIssuedPage(deps: CertsrvDeps, mode: RequestMode, rec: RequestRecord): IisResponse {
  const lastStatus = rec.disposition === 'pending' ? SUCCESS : describe(byCode(rec.status));
  return errorPage(deps, mode, { disposition: crDisp(rec.disposition), message: rec.dispositionMessage, lastStatus });
}

/**
 * An unknown or malformed ReqID. What Windows prints here is not known from a capture; the
 * emulator reports CRYPT_E_NOT_FOUND from RetrievePending (E_INVALIDARG for a non-number).
 */
function unknownRequest(deps: CertsrvDeps, mode: RequestMode, raw: string | null): IisResponse {
  const err = raw && /^\d+$/.test(raw) ? hresult('CRYPT_E_NOT_FOUND') : hresult('E_INVALIDARG');
  const text = describe(err);
  return html(renderErrorPage({ caName: deps.caName, mode, dispositionMessage: '', result: text, comErrorInfo: `CCertRequest::RetrievePending: ${text}`, lastStatus: text }));
}

function outcomePage(deps: CertsrvDeps, mode: RequestMode, out: SubmitOutcome | { kind: 'record'; record: RequestRecord }): IisResponse {
  const rec = out.record;
  if (out.kind === 'error') {
    return errorPage(deps, mode, { disposition: crDisp('failed'), message: rec.dispositionMessage, lastStatus: describe(out.error) });
  }
  if (rec.disposition === 'issued' || rec.disposition === 'revoked') return html(renderIssued(deps.caName, rec.id));
  if (rec.disposition === 'pending') return html(renderPending(deps.caName, rec.id));
  if (rec.disposition === 'denied') return html(renderDenied(deps.caName, rec.id, rec.dispositionMessage));
  return notIssuedPage(deps, mode, rec);
}

async function certfnsh(deps: CertsrvDeps, req: IncomingMessage, user: UserConfig): Promise<IisResponse> {
  if (req.method !== 'POST') return html(renderWelcome(deps.caName));
  const body = await readBody(req, deps.maxBodyBytes);
  if (!body.ok) return { status: 500, contentType: 'text/html', body: ASP_ERROR };
  const form = parseForm(body.body);
  const mode = (form.get('mode') ?? '').toLowerCase();
  if (mode === 'chkpnd') {
    const raw = form.get('reqid') ?? null;
    const rec = raw && /^\d+$/.test(raw) ? deps.service.get(Number(raw)) : undefined;
    return rec ? outcomePage(deps, 'chkpnd', { kind: 'record', record: rec }) : unknownRequest(deps, 'chkpnd', raw);
  }
  if (mode !== 'newreq') return errorPage(deps, 'newreq', { message: '', lastStatus: describe(hresult('E_INVALIDARG')) });
  const outcome = await deps.service.submit(user, form.get('certrequest') ?? '', form.get('certattrib') ?? '');
  return outcomePage(deps, 'newreq', outcome);
}

function caCertificate(deps: CertsrvDeps, q: URLSearchParams): x509.X509Certificate | undefined {
  const renewal = q.get('Renewal') ?? '0';
  return renewal === '0' ? deps.authority.issuing.certificate : undefined;
}

function certnew(deps: CertsrvDeps, q: URLSearchParams, chain: boolean): IisResponse {
  const enc = encodingOf(q);
  const raw = q.get('ReqID');
  if (raw?.toLowerCase() === 'cacert') {
    const ca = caCertificate(deps, q);
    if (!ca) return unknownRequest(deps, 'fetch', 'x');
    return chain ? chainResponse(deps.authority.chain, enc) : certificateResponse(ca.rawData, enc);
  }
  const rec = raw && /^\d+$/.test(raw) ? deps.service.get(Number(raw)) : undefined;
  if (!rec) return unknownRequest(deps, 'fetch', raw);
  if (!rec.certificate) return notIssuedPage(deps, 'fetch', rec);
  const cert = new x509.X509Certificate(Buffer.from(rec.certificate, 'base64'));
  return chain ? chainResponse([cert, ...deps.authority.chain], enc) : certificateResponse(cert.rawData, enc);
}

async function certcrl(deps: CertsrvDeps, q: URLSearchParams): Promise<IisResponse> {
  // Only base CRLs are emulated; a delta request is answered as an unavailable object.
  if ((q.get('Type') ?? 'base').toLowerCase() !== 'base' || (q.get('Renewal') ?? '0') !== '0') {
    return unknownRequest(deps, 'fetch', '0');
  }
  return crlResponse(await deps.service.crl(), encodingOf(q));
}

/** Routes one authenticated request under /certsrv/. Page names are case-insensitive (IIS). */
export async function handleCertsrv(deps: CertsrvDeps, req: IncomingMessage, url: URL, user: UserConfig): Promise<IisResponse> {
  const page = url.pathname.toLowerCase().replace(/^\/certsrv\/?/, '');
  const q = url.searchParams;
  switch (page) {
    case '':
    case 'default.asp':
    case 'certdflt.asp':
      return html(renderWelcome(deps.caName));
    case 'certrqus.asp':
      return html(renderRequestChoice(deps.caName));
    case 'certrqxt.asp':
    case 'certrqad.asp':
      return html(renderCertRqXt(deps.caName, deps.templates().filter((t) => mayEnroll(t, user))));
    case 'certfnsh.asp':
      return certfnsh(deps, req, user);
    case 'certnew.cer':
      return certnew(deps, q, false);
    case 'certnew.p7b':
      return certnew(deps, q, true);
    case 'certcarc.asp':
      return html(renderCertCarc(deps.caName, 0));
    case 'certcrl.crl':
      return certcrl(deps, q);
    case 'certckpn.asp': {
      const me = `${deps.domain}\\${user.name}`.toLowerCase();
      const mine = deps.service.list().filter((r) => r.disposition === 'pending' && r.requester.toLowerCase() === me);
      return html(renderCertCkPn(deps.caName, mine));
    }
    default:
      return { status: 404, contentType: 'text/html', body: NOT_FOUND_BODY, fromIis: true };
  }
}
