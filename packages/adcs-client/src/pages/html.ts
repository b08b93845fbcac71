/**
 * Minimal HTML text helpers for certsrv pages. certsrv emits IE-era HTML (upper-case tags,
 * unquoted attributes, `<LocID>` wrappers) that no strict parser likes; the page parsers only
 * need tag stripping and entity decoding around structural markers, so this stays tiny.
 */
import { EXCERPT_MAX } from '../errors.ts';

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ',
};

/** Decodes the named entities certsrv uses plus numeric `&#NN;` / `&#xNN;` references. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
  });
}

/**
 * Removes comments, scripts, styles and tags and collapses whitespace. With `keepSpaces`, runs
 * of plain spaces inside a line survive: Windows disposition messages carry meaningful double
 * spaces ("Denied by Policy Module  0x80094012"), and callers compare them verbatim.
 */
export function htmlToText(html: string, keepSpaces = false): string {
  const withoutBlocks = html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<script\b[\s\S]*?<\/script>/gi, ' ')
    .replace(/<style\b[\s\S]*?<\/style>/gi, ' ');
  const text = decodeEntities(withoutBlocks.replace(/<[^>]*>/g, keepSpaces ? '' : ' '));
  return (keepSpaces ? text.replace(/[ ]*[\r\n\t\f\v][\s]*/g, ' ') : text.replace(/\s+/g, ' ')).trim();
}

/** A short human-readable excerpt of a response body for error reports and logs. */
export function excerptOf(body: string): string {
  const text = htmlToText(body);
  return text.length <= EXCERPT_MAX ? text : `${text.slice(0, EXCERPT_MAX - 1)}…`;
}

/** The CA name IIS prints in the page header: `Certificate Services &nbsp;--&nbsp; <CA name> &nbsp;`. */
export function caNameFromHeader(html: string): string | undefined {
  const header = /<LocID\s+ID=locMSCertSrv>([\s\S]*?)<\/LocID>/i.exec(html);
  if (!header) return undefined;
  const text = htmlToText(header[1] ?? '');
  const dash = text.indexOf('--');
  if (dash < 0) return undefined;
  const name = text.slice(dash + 2).trim();
  return name.length > 0 ? name : undefined;
}
