/**
 * One HTTPS origin per emulated service (login, Graph, each vault), all presenting the same
 * certificate. Key Vault needs origins of its own: the SDK parses certificate ids as
 * `https://host/certificates/{name}/{version}` and rejects any path prefix.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ActiveFault, FaultInjector, Service } from './faults.ts';
import type { TlsMaterial } from './tls.ts';

export interface ServiceHandler {
  service: Service;
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
  /** Renders an injected fault (or a crash, as 500) in the service's own error format. */
  fault(req: IncomingMessage, res: ServerResponse, fault: ActiveFault): void;
}

export interface Origin {
  url: string;
  close(): Promise<void>;
}

/** Query parameters that would carry a credential if a client put one in the URL; the call log shows them redacted. */
const SECRET_PARAM = /secret|assertion|password|pwd|token|code_verifier|^code$/i;

function loggableQuery(params: URLSearchParams): Record<string, string> {
  return Object.fromEntries([...params].map(([k, v]) => [k, SECRET_PARAM.test(k) ? '[redacted]' : v]));
}

async function serve(handler: ServiceHandler, faults: FaultInjector, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://sim.invalid');
  let faulted = false;
  res.once('finish', () => {
    faults.record({
      service: handler.service,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: loggableQuery(url.searchParams),
      status: res.statusCode,
      faulted,
      at: new Date().toISOString(),
    });
  });
  const fault = faults.take(handler.service, url.pathname);
  if (fault?.latencyMs) await sleep(fault.latencyMs);
  if (fault?.status) {
    faulted = true;
    // The body is drained so keep-alive connections stay usable for the client's retry.
    req.resume();
    handler.fault(req, res, fault);
    return;
  }
  await handler.handle(req, res, url);
}

export type AdminHttp = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

/** Serves one origin; `adminHttp`, when given, answers `/sim/…` outside the call log and the fault injector. */
export async function startOrigin(handler: ServiceHandler, faults: FaultInjector, tls: TlsMaterial, host: string, port = 0, adminHttp?: AdminHttp): Promise<Origin> {
  const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const work = adminHttp && path.startsWith('/sim/') ? adminHttp(req, res, new URL(req.url ?? '/', 'https://sim.invalid')) : serve(handler, faults, req, res);
    work.catch(() => {
      if (!res.headersSent) handler.fault(req, res, { status: 500, retryAfterSeconds: 0, latencyMs: 0 });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `https://${urlHost}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
