/**
 * Response shaping that makes the emulator look like IIS 10 running classic ASP: header order and
 * names (`Server: Microsoft-IIS/10.0`, `X-Powered-By: ASP.NET`), the `ASPSESSIONIDxxxxxxxx`
 * session cookie, CRLF line endings in pages, and ASP's `Cache-Control: private`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomInt } from 'node:crypto';

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function letters(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += LETTERS[randomInt(26)];
  return s;
}

/**
 * The ASP session cookie: ASP names it `ASPSESSIONID` + 8 letters fixed per worker process and
 * gives it a 24-letter value. It is a session cookie (no expiry); IIS adds `secure` on HTTPS.
 */
export class AspSession {
  readonly cookieName = `ASPSESSIONID${letters(8)}`;

  /** A Set-Cookie value when the request does not carry our session cookie yet. */
  setCookieFor(req: IncomingMessage): string | undefined {
    const cookies = req.headers.cookie ?? '';
    if (cookies.split(';').some((c) => c.trim().startsWith(`${this.cookieName}=`))) return undefined;
    return `${this.cookieName}=${letters(24)}; secure; path=/`;
  }
}

/** Converts LF line endings to CRLF, as pages saved on Windows and served by IIS have. */
export function crlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

export interface IisResponse {
  status: number;
  contentType: string;
  body: Buffer | string;
  headers?: Array<[string, string]>;
  /**
   * Produced by IIS itself (401/404/500/503 custom errors) rather than by an ASP page: no
   * session cookie and no Cache-Control, Content-Length last.
   */
  fromIis?: boolean;
}

const reason: Record<number, string> = {
  200: 'OK',
  301: 'Moved Permanently',
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  413: 'Request Entity Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * Writes a response with IIS's header set and order. ASP pages: Cache-Control, Content-Length,
 * Content-Type, Server, Set-Cookie, X-Powered-By, Date; IIS errors: Content-Type, Server,
 * WWW-Authenticate…, X-Powered-By, Date, Content-Length. No Connection/Keep-Alive header
 * (IIS sends none on HTTP/1.1 keep-alive).
 */
export function sendIis(req: IncomingMessage, res: ServerResponse, session: AspSession, r: IisResponse): void {
  const body = typeof r.body === 'string' ? Buffer.from(r.body, 'utf8') : r.body;
  const asp = !r.fromIis;
  const headers: Array<[string, string]> = [];
  if (asp) headers.push(['Cache-Control', 'private'], ['Content-Length', String(body.length)]);
  headers.push(['Content-Type', r.contentType]);
  headers.push(['Server', 'Microsoft-IIS/10.0']);
  for (const h of r.headers ?? []) headers.push(h);
  const cookie = asp ? session.setCookieFor(req) : undefined;
  if (cookie) headers.push(['Set-Cookie', cookie]);
  headers.push(['X-Powered-By', 'ASP.NET']);
  headers.push(['Date', new Date().toUTCString()]);
  if (!asp) headers.push(['Content-Length', String(body.length)]);
  res.sendDate = false;
  res.removeHeader('Connection');
  res.writeHead(r.status, reason[r.status] ?? '', headers.flat());
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** HTML-escapes text placed into a page. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
