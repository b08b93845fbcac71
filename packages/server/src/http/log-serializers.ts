import type { FastifyRequest } from 'fastify';

/**
 * Query parameters whose values are credentials: the OAuth callback carries the authorization
 * `code` and `state` (Azure redirects the browser to it), and some clients put tokens or
 * passwords in URLs. Names compared case-insensitively.
 */
const SECRET_QUERY_PARAMS = new Set(['code', 'state', 'session_state', 'id_token', 'access_token', 'refresh_token', 'client_secret', 'password', 'token', 'challenge']);

/** The request URL with the values of credential-bearing query parameters replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const parts = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    let decoded = name;
    try { decoded = decodeURIComponent(name); } catch { /* keep the raw name */ }
    return eq >= 0 && SECRET_QUERY_PARAMS.has(decoded.toLowerCase()) ? `${name}=[redacted]` : pair;
  });
  return `${url.slice(0, q)}?${parts.join('&')}`;
}

/**
 * pino serializers for the request log (they replace Fastify's defaults, which log the raw URL):
 * the same fields, with credentials in the query string redacted.
 */
export const LOG_SERIALIZERS = {
  req: (req: FastifyRequest) => ({
    method: req.method,
    url: redactUrl(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  }),
};
