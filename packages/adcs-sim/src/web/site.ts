/**
 * The HTTPS site as IIS lays it out: `/sim/` (the emulator's admin API, never faulted),
 * `/CertEnroll/` (anonymous AIA/CDP publication), `/certsrv/` (authenticated web enrollment),
 * and IIS's own 301/404/401/500/503 answers. Faults (latency, status, reset, lost answers) hit
 * everything but `/sim/`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Authority } from '../ca/authority.ts';
import type { SimConfig } from '../config.ts';
import type { CaService } from '../enroll/ca-service.ts';
import type { AuthGate } from '../auth/gate.ts';
import { delay, type FaultInjector } from '../faults.ts';
import { handleAdmin, type AdminDeps } from '../admin/api.ts';
import { handleCertsrv, type CertsrvDeps } from './certsrv.ts';
import { AspSession, sendIis, type IisResponse } from './iis.ts';
import { UNAUTHORIZED_BODY, NOT_FOUND_BODY, SERVER_ERROR_BODY, SERVICE_UNAVAILABLE_BODY } from './pages/unauthorized.ts';

export interface SiteDeps {
  config: SimConfig;
  port: () => number;
  authority: Authority;
  service: CaService;
  faults: FaultInjector;
  gate: AuthGate;
  certsrv: CertsrvDeps;
  admin: AdminDeps;
}

/** CDP and AIA URLs, laid out like the ADCS defaults (http://<host>/CertEnroll/<CA>.crl, <host>_<CA>.crt). */
export function publication(config: SimConfig, port: number): { crlUrl: string; caCertUrl: string } {
  const base = `https://${config.host}:${port}/CertEnroll`;
  return {
    crlUrl: `${base}/${encodeURIComponent(config.caName)}.crl`,
    caCertUrl: `${base}/${encodeURIComponent(`${config.host}_${config.caName}`)}.crt`,
  };
}

function lastSegment(url: string): string {
  return decodeURIComponent(url.slice(url.lastIndexOf('/') + 1)).toLowerCase();
}

/**
 * Sends a TCP RST. A TLS socket's handle is not a TCP handle, so the reset goes to the
 * underlying TCP socket (Node keeps it as `_parent`); plain destroy() is the fallback.
 */
function resetConnection(socket: Socket): void {
  const parent = (socket as Socket & { _parent?: Socket })._parent;
  try {
    (parent ?? socket).resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

function iisError(status: number, body: string, headers: Array<[string, string]> = []): IisResponse {
  return { status, contentType: 'text/html', body, headers, fromIis: true };
}

/** Builds the request listener of one emulator instance. */
export function createSiteHandler(deps: SiteDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const session = new AspSession();

  async function certEnroll(pathname: string): Promise<IisResponse | undefined> {
    const name = decodeURIComponent(pathname.slice('/certenroll/'.length)).toLowerCase();
    const pub = publication(deps.config, deps.port());
    if (name === lastSegment(pub.crlUrl)) return { status: 200, contentType: 'application/pkix-crl', body: Buffer.from(await deps.service.crl()), fromIis: true };
    if (name === lastSegment(pub.caCertUrl)) {
      return { status: 200, contentType: 'application/x-x509-ca-cert', body: Buffer.from(deps.authority.issuing.certificate.rawData), fromIis: true };
    }
    return undefined;
  }

  async function admin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const r = await handleAdmin(deps.admin, req, url);
    const body = JSON.stringify(r.body);
    const type = r.status >= 400 ? 'application/problem+json' : 'application/json';
    res.writeHead(r.status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `https://${deps.config.host}`);
    const path = url.pathname.toLowerCase();
    if (url.pathname.startsWith('/sim/')) return admin(req, res, url);
    await delay(deps.faults.current.latencyMs);
    const action = deps.faults.next(lastSegment(url.pathname));
    if (action.kind === 'reset') return resetConnection(req.socket);
    if (action.kind === 'status') {
      return sendIis(req, res, session, iisError(action.status, action.status === 503 ? SERVICE_UNAVAILABLE_BODY : SERVER_ERROR_BODY));
    }
    if (path === '/certsrv') {
      // IIS redirects a directory request without the trailing slash.
      return sendIis(req, res, session, iisError(301, '', [['Location', `https://${deps.config.host}:${deps.port()}/certsrv/`]]));
    }
    const published = path.startsWith('/certenroll/') ? await certEnroll(url.pathname) : undefined;
    if (published) return sendIis(req, res, session, published);
    if (!path.startsWith('/certsrv/')) return sendIis(req, res, session, iisError(404, NOT_FOUND_BODY));
    const auth = await deps.gate.check(req);
    if (auth.kind === 'challenge') {
      req.resume();
      return sendIis(req, res, session, iisError(401, UNAUTHORIZED_BODY, auth.headers));
    }
    const page = await handleCertsrv(deps.certsrv, req, url, auth.user);
    // Only a request that got past authentication was handled: a 401 leg of a handshake never loses an answer.
    if (deps.faults.loseAnswer(lastSegment(url.pathname))) return resetConnection(req.socket);
    sendIis(req, res, session, { ...page, headers: [...(page.headers ?? []), ...auth.headers] });
  }

  return (req, res) => {
    route(req, res).catch(() => {
      if (!res.headersSent) sendIis(req, res, session, iisError(500, SERVER_ERROR_BODY));
      else res.destroy();
    });
  };
}
