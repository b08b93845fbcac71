/**
 * "Test connection" for an ADCS connection: one answer saying whether the server is reachable,
 * whether TLS is acceptable (or the exact OpenSSL/Node problem), whether the credentials work,
 * whether Extended Protection (channel binding) is required, the CA name, the templates the
 * account may enroll in, and the round-trip time of an authenticated request.
 *
 * EPA detection (NTLM only): a second client authenticates without MsvAvChannelBindings. IIS
 * with Extended Protection "Required" refuses it (401) while accepting the bound handshake.
 */
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { isAdcsError, type AdcsErrorCode } from './errors.ts';
import { toAdcsError } from './http/network-errors.ts';
import { caNameFromHeader } from './pages/html.ts';
import type { TemplateInfo } from './pages/templates.ts';
import { normaliseOptions, type AdcsClientOptions } from './options.ts';
import type { AdcsClient } from './client.ts';

export interface ProbeReport {
  reachable: boolean;
  tls: { ok: boolean; trusted?: boolean; code?: string; message?: string; protocol?: string };
  auth: { ok: boolean; kind: AdcsClientOptions['auth']; message?: string };
  /** null when not applicable (not NTLM) or not determinable (auth failed). */
  epaRequired: boolean | null;
  caName?: string;
  templates?: TemplateInfo[];
  /** Wall time of one authenticated GET of the certsrv home page on a warm connection. */
  roundTripMs?: number;
  /** The first failure, as the AdcsError code and message. */
  error?: { code: AdcsErrorCode; message: string; httpStatus?: number; hresult?: string };
}

type ClientFactory = (options: AdcsClientOptions, channelBindings: boolean) => AdcsClient;

export async function probeAdcs(options: AdcsClientOptions, client: AdcsClient, makeClient: ClientFactory): Promise<ProbeReport> {
  const kind = options.auth;
  const report: ProbeReport = { reachable: false, tls: { ok: false }, auth: { ok: false, kind }, epaRequired: null };
  const handshake = await tlsHandshake(options);
  report.reachable = handshake.reachable;
  report.tls = handshake.tls;
  if (!handshake.tls.ok) {
    if (handshake.error) report.error = handshake.error;
    return report;
  }
  try {
    const home = await client.get('', 'certsrv home page');
    report.auth = { ok: true, kind };
    const name = caNameFromHeader(home.body.toString('utf8'));
    const started = performance.now();
    await client.get('', 'certsrv home page');
    report.roundTripMs = Math.round((performance.now() - started) * 100) / 100;
    report.caName = name ?? (await client.caArchive()).caName;
    report.templates = await client.templates();
  } catch (error) {
    const err = toAdcsError(error, options.baseUrl);
    if (err.code === 'ADCS_AUTH_FAILED') report.auth = { ok: false, kind, message: err.message };
    else if (!report.auth.ok) report.auth = { ok: false, kind, message: `not tested: ${err.message}` };
    report.error = { code: err.code, message: err.message, ...(err.httpStatus ? { httpStatus: err.httpStatus } : {}), ...(err.hresult ? { hresult: err.hresult } : {}) };
  }
  if (kind === 'ntlm' && report.auth.ok) report.epaRequired = await refusesUnbound(options, makeClient);
  return report;
}

async function refusesUnbound(options: AdcsClientOptions, makeClient: ClientFactory): Promise<boolean | null> {
  const unbound = makeClient({ ...options, maxSockets: 1 }, false);
  try {
    await unbound.get('', 'certsrv home page without channel binding');
    return false;
  } catch (error) {
    return isAdcsError(error) && error.code === 'ADCS_AUTH_FAILED' ? true : null;
  } finally {
    await unbound.close();
  }
}

interface HandshakeResult {
  reachable: boolean;
  tls: ProbeReport['tls'];
  error?: ProbeReport['error'];
}

/** A bare TLS handshake with the connection's trust settings, reporting the exact failure. */
function tlsHandshake(options: AdcsClientOptions): Promise<HandshakeResult> {
  const n = normaliseOptions(options);
  const host = n.origin.hostname;
  return new Promise((resolve) => {
    const socket = tls.connect({
      host,
      port: Number(n.origin.port || 443),
      ...(tlsServername(host) ? { servername: host } : {}),
      rejectUnauthorized: n.rejectUnauthorized,
      ...(n.ca ? { ca: n.ca } : {}),
      timeout: n.timeoutMs,
    });
    let connected = false;
    socket.once('connect', () => { connected = true; });
    socket.once('secureConnect', () => {
      const hostError = tls.checkServerIdentity(host, socket.getPeerCertificate());
      const protocol = socket.getProtocol() ?? undefined;
      socket.end();
      if (hostError) {
        const err = toAdcsError(hostError, n.origin.origin);
        resolve({ reachable: true, tls: { ok: false, code: err.causeCode, message: err.message }, error: { code: err.code, message: err.message } });
        return;
      }
      const trusted = socket.authorized;
      const code = trusted ? undefined : String(socket.authorizationError ?? '');
      resolve({ reachable: true, tls: { ok: true, trusted, ...(protocol ? { protocol } : {}), ...(code ? { code, message: 'certificate not trusted; accepted because rejectUnauthorized is false' } : {}) } });
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve({ reachable: connected, tls: { ok: false, code: 'ETIMEDOUT', message: 'TLS handshake timed out' }, error: { code: 'ADCS_TIMEOUT', message: `no TLS handshake with ${host} within ${n.timeoutMs} ms` } });
    });
    socket.once('error', (error) => {
      const err = toAdcsError(error, n.origin.origin);
      const tlsProblem = err.code === 'ADCS_TLS';
      resolve({
        reachable: connected || tlsProblem,
        tls: { ok: false, ...(err.causeCode ? { code: err.causeCode } : {}), message: err.message },
        error: { code: err.code, message: err.message },
      });
    });
  });
}

function tlsServername(host: string): boolean {
  return !/^[\d.]+$/.test(host) && !host.includes(':');
}
