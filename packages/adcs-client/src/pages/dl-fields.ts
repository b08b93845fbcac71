/**
 * The `<DL>` "advanced info" block certsrv prints on error and not-issued pages
 * (certnew.cer, certnew.p7b, certfnsh.asp errors): `<DT …><B>Label:</B>…</DT><DD>` then the value
 * on the following line, indented with two tabs, then `</DD>`. See
 * adcs-captures/nokia-adcs-issuer_certnew.cer-errorpage.tmpl. Labels are matched by the stable
 * `ID=loc…Label` element ids first and by English label text only as a fallback, because a
 * localised certsrv translates the text but keeps the ids.
 */
import { htmlToText } from './html.ts';

export interface DlFields {
  requestMode?: string;
  /** Numeric disposition ([MS-WCCE] 2.2.2.x CR_DISP_*): 2 denied, 3 issued, 5 under submission… */
  disposition?: number;
  dispositionText?: string;
  dispositionMessage?: string;
  result?: string;
  comErrorInfo?: string;
  lastStatus?: string;
  suggestedCause?: string;
}

type FieldKey = Exclude<keyof DlFields, 'disposition'>;

const BY_ID: Record<string, FieldKey> = {
  locmodelabel: 'requestMode',
  locdisplabel: 'dispositionText',
  locdispmsglabel: 'dispositionMessage',
  locresultlabel: 'result',
  loccominfolabel: 'comErrorInfo',
  loclaststatlabel: 'lastStatus',
  locsugcauselabel: 'suggestedCause',
};

const BY_LABEL: Record<string, FieldKey> = {
  'request mode': 'requestMode',
  disposition: 'dispositionText',
  'disposition message': 'dispositionMessage',
  result: 'result',
  'com error info': 'comErrorInfo',
  laststatus: 'lastStatus',
  'suggested cause': 'suggestedCause',
};

const PAIR_RE = /<DT\b([^>]*)>([\s\S]*?)<\/DT>\s*<DD>([\s\S]*?)(?=<\/DD>|<DT\b|<\/DL>)/gi;

/** True when the page carries the certsrv `<DL>` block (at least one recognised field). */
export function hasDlFields(html: string): boolean {
  return Object.keys(parseDlFields(html)).length > 0;
}

/** Extracts the labelled fields; values are tag-stripped, entity-decoded and trimmed. */
export function parseDlFields(html: string): DlFields {
  const fields: DlFields = {};
  for (const m of html.matchAll(PAIR_RE)) {
    const key = keyFor(m[1] ?? '', m[2] ?? '');
    if (!key) continue;
    const value = htmlToText(m[3] ?? '', true);
    if (value.length > 0) fields[key] = value;
  }
  const disposition = /^(\d+)\b/.exec(fields.dispositionText ?? '');
  if (disposition) fields.disposition = Number(disposition[1]);
  return fields;
}

function keyFor(attributes: string, labelHtml: string): FieldKey | undefined {
  const id = /\bID\s*=\s*"?([A-Za-z]+)/i.exec(attributes);
  const byId = id ? BY_ID[(id[1] ?? '').toLowerCase()] : undefined;
  if (byId) return byId;
  const label = htmlToText(labelHtml).replace(/:\s*$/, '').toLowerCase();
  return BY_LABEL[label];
}
