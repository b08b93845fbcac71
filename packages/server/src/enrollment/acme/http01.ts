import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { AcmeProblem } from './problems.ts';

/** Redirects followed at most (Let's Encrypt's limit too); one more is `connection`. */
export const MAX_REDIRECTS = 10;
const MAX_BODY = 8 * 1024;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export interface Http01FetchOptions {
  /** CERTBRIDGE_ACME_HTTP01_PORT: where "port 80" is reached. */
  http01Port: number;
  /** CERTBRIDGE_ACME_TLSALPN01_PORT: where "port 443" is reached (an https redirect target). */
  httpsPort: number;
  timeoutMs: number;
  /** The address to connect to for a host name (the validator's resolver). */
  resolve(host: string): Promise<string>;
}

type Answer = { status: number; location: string | undefined; body: string };

const bare = (hostname: string) => hostname.replace(/^\[|\]$/g, '');

/**
 * The port to connect to for a URL, or why it may not be followed. Section 8.3 fetches
 * `http://<name>/…` on port 80; redirects may go to http or https on the standard ports only
 * (section 10.2: a redirect must not steer the validator to arbitrary services). The
 * configured ports stand for 80 and 443, so a URL naming either explicitly is accepted too.
 */
function portFor(url: URL, o: Http01FetchOptions): number {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AcmeProblem('connection', `redirect to ${url.protocol.slice(0, -1)}: refused; only http and https are followed`);
  const standard = url.protocol === 'http:' ? 80 : 443;
  const configured = url.protocol === 'http:' ? o.http01Port : o.httpsPort;
  const port = url.port === '' ? standard : Number(url.port);
  if (port !== standard && port !== configured) throw new AcmeProblem('connection', `redirect to ${url.href} refused: port ${port} is not the ${url.protocol.slice(0, -1)} validation port`);
  return configured;
}

/** One GET, without following redirects; TLS certificates of https targets are not checked (the key authorization is the proof). */
async function getOnce(url: URL, port: number, o: Http01FetchOptions): Promise<Answer> {
  const host = bare(url.hostname);
  const address = isIP(host) ? host : await o.resolve(host);
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise<Answer>((resolve, reject) => {
    const req = lib.get({
      host: address, port, path: `${url.pathname}${url.search}`, timeout: o.timeoutMs, headers: { host: url.host, 'user-agent': 'Certbridge ACME validator' },
      ...(url.protocol === 'https:' ? { rejectUnauthorized: false, ...(isIP(host) ? {} : { servername: host }) } : {}),
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > MAX_BODY) req.destroy(new AcmeProblem('incorrectResponse', `${url.href} answered more than ${MAX_BODY} bytes`));
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new AcmeProblem('connection', `${url.href} did not answer within ${o.timeoutMs} ms`)));
    req.on('error', (err) => reject(err instanceof AcmeProblem ? err : new AcmeProblem('connection', `cannot fetch ${url.href}: ${err.message}`)));
  });
}

/**
 * The body of the http-01 resource (RFC 8555 section 8.3), following up to MAX_REDIRECTS
 * redirects to http or https URLs on the validation ports.
 */
export async function fetchHttp01(host: string, token: string, o: Http01FetchOptions): Promise<string> {
  let url = new URL(`http://${host}/.well-known/acme-challenge/${token}`);
  let port = o.http01Port;
  for (let redirects = 0; ; redirects++) {
    const answer = await getOnce(url, port, o);
    if (!REDIRECT_STATUSES.has(answer.status)) {
      if (answer.status !== 200) throw new AcmeProblem('incorrectResponse', `${url.href} answered HTTP ${answer.status}`);
      return answer.body;
    }
    if (!answer.location) throw new AcmeProblem('incorrectResponse', `${url.href} answered HTTP ${answer.status} without a Location`);
    if (redirects >= MAX_REDIRECTS) throw new AcmeProblem('connection', `more than ${MAX_REDIRECTS} redirects from http://${host}/.well-known/acme-challenge/${token}`);
    let next: URL;
    try {
      next = new URL(answer.location, url);
    } catch {
      throw new AcmeProblem('connection', `${url.href} redirected to an invalid URL ${JSON.stringify(answer.location.slice(0, 100))}`);
    }
    port = portFor(next, o);
    url = next;
  }
}
