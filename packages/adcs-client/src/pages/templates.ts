/**
 * certrqxt.asp ("Advanced Certificate Request") template list.
 *
 * The page lists only the templates the caller may enroll in, as
 * `<select name=lbCertTemplate id=lbCertTemplateID>` options whose value is
 * `<kind>;<template CN>;<more ;-separated fields>` and whose text is the display name.
 * `kind` is `E` or `O`; no public document says what the letter means (it is not the schema
 * version alone, and the emulator reads it as "subject built from AD" vs "supplied in the
 * request"), so it is returned as seen and never used to decide anything. Only the CN is sent
 * back in `CertificateTemplate:<CN>` ([MS-WCCE] 3.2.1.4.2.1.4 attributes).
 */
import { decodeEntities, htmlToText } from './html.ts';

export interface TemplateInfo {
  /** The template's common name, the value for `CertificateTemplate:`. */
  name: string;
  displayName: string;
  kind: 'E' | 'O';
}

const SELECT_RE = /<select\b[^>]*\bid\s*=\s*"?lbCertTemplateID\b[^>]*>([\s\S]*?)<\/select>/i;
// IE-era markup may omit </option>; the text runs to the next tag.
const OPTION_RE = /<option\b([^>]*)>([^<]*)/gi;
const VALUE_RE = /\bvalue\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i;

/**
 * Parses the template options. Returns `undefined` when the page has no template select at
 * all (not a certrqxt page), and an empty list when the select is present but empty (the
 * account may enroll in nothing).
 */
export function parseTemplates(html: string): TemplateInfo[] | undefined {
  const select = SELECT_RE.exec(html);
  if (!select) return undefined;
  const out: TemplateInfo[] = [];
  for (const m of (select[1] ?? '').matchAll(OPTION_RE)) {
    const attrs = VALUE_RE.exec(m[1] ?? '');
    const value = decodeEntities(attrs ? (attrs[1] ?? attrs[2] ?? attrs[3] ?? '') : '');
    const parts = value.split(';');
    const kind = parts[0];
    const name = (parts[1] ?? '').trim();
    if ((kind !== 'E' && kind !== 'O') || name.length === 0) continue;
    const displayName = htmlToText(m[2] ?? '') || name;
    out.push({ name, displayName, kind });
  }
  return out;
}
