/**
 * certcarc.asp ("Download a CA Certificate, Certificate Chain, or CRL").
 *
 * The page script holds `var nRenewals=K;`: the CA certificate has been renewed K times, and
 * `certnew.cer?ReqID=CACert&Renewal=k` / `certnew.p7b?ReqID=CACert&Renewal=k` serve renewal k for
 * k = 0..K. The `lbCaInstance` list names the CA (`Current [<CA name>]`). See
 * adcs-captures/nokia-adcs-issuer_certcarc.asp.tmpl.
 */
import { caNameFromHeader, htmlToText } from './html.ts';

export interface CaArchivePage {
  renewals: number;
  caName?: string;
}

const RENEWALS_RE = /\bvar\s+nRenewals\s*=\s*(\d+)\s*;/;
const CA_NAME_RE = /<LocID\s+ID=locCaNameNoRen\d*>([\s\S]*?)<\/LocID>/i;

/** Returns `undefined` when the page has no `nRenewals` variable (not a certcarc page). */
export function parseCaArchive(html: string): CaArchivePage | undefined {
  const renewals = RENEWALS_RE.exec(html);
  if (!renewals) return undefined;
  const count = Number(renewals[1]);
  if (!Number.isSafeInteger(count)) return undefined;
  const listed = CA_NAME_RE.exec(html);
  const fromList = listed ? htmlToText(listed[1] ?? '').replace(/^\[|\]$/g, '').trim() : '';
  const caName = fromList.length > 0 ? fromList : caNameFromHeader(html);
  return caName === undefined ? { renewals: count } : { renewals: count, caName };
}
