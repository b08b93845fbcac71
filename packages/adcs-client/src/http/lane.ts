/**
 * One keep-alive HTTPS "lane": an `https.Agent` limited to a single socket, used by one request
 * at a time. Connection-bound authentication (NTLM) needs every leg of a handshake on the same
 * TCP connection; a one-socket agent that is never shared while busy guarantees that, and the
 * socket identity is checked anyway because a server may close the connection between legs.
 */
import https from 'node:https';
import tls, { type TLSSocket } from 'node:tls';
import { isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { AdcsError } from '../errors.ts';
import { timeoutError, toAdcsError } from './network-errors.ts';

export interface LaneOptions {
  baseUrl: URL;
  ca?: string;
  rejectUnauthorized: boolean;
  timeoutMs: number;
}

export interface LaneRequest {
  method: 'GET' | 'POST';
  /** Path and query, e.g. `/certsrv/certnew.cer?ReqID=5&Enc=b64`. */
  path: string;
  body?: Buffer;
  contentType?: string;
  /**
   * Not to be sent twice (a submission: each one is a new request at the CA). Once written in
   * full, it is never resent on a fresh connection; see Lane.send.
   */
  once?: boolean;
}

export interface LaneResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  socket: TLSSocket;
}

/** Decides the Authorization header once the socket is known; may throw to abort. */
export type HeaderForSocket = (socket: TLSSocket) => Promise<string | undefined>;

const MAX_BODY = 8 * 1024 * 1024;

/**
 * https.Agent whose sockets always verify the host name. With `rejectUnauthorized: false` Node
 * skips `checkServerIdentity`, but the contract says host name verification is always on, so the
 * check is repeated here and a mismatch destroys the socket.
 */
class HostCheckingAgent extends https.Agent {
  constructor(private readonly hostname: string, options: https.AgentOptions) {
    super(options);
  }

  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const socket = super.createConnection(options, callback) as TLSSocket | null | undefined;
    if (socket && this.options.rejectUnauthorized === false) {
      socket.once('secureConnect', () => {
        const failure = tls.checkServerIdentity(this.hostname, socket.getPeerCertificate());
        if (failure) socket.destroy(failure);
      });
    }
    return socket;
  }
}

export class Lane {
  busy = false;
  private readonly agent: HostCheckingAgent;

  constructor(private readonly options: LaneOptions) {
    this.agent = new HostCheckingAgent(options.baseUrl.hostname, {
      keepAlive: true,
      maxSockets: 1,
      maxFreeSockets: 1,
      rejectUnauthorized: options.rejectUnauthorized,
      ...(options.ca ? { ca: options.ca } : {}),
    });
  }

  /**
   * Sends one request; retries once when a reused keep-alive socket was closed by the server.
   * That close usually races an idle timeout (IIS closes idle connections after 120 s) and the
   * server never read the request. A `once` request that had been written in full is not sent
   * again: the server may have handled it, so the error says its answer was lost instead.
   */
  async send(request: LaneRequest, headerFor: HeaderForSocket): Promise<LaneResponse> {
    try {
      return await this.sendOnce(request, headerFor);
    } catch (error) {
      if (!(error instanceof StaleSocketError)) throw error;
      if (request.once && error.failure.answerLost) throw error.failure;
      return this.sendOnce(request, headerFor);
    }
  }

  destroy(): void {
    this.agent.destroy();
  }

  private sendOnce(request: LaneRequest, headerFor: HeaderForSocket): Promise<LaneResponse> {
    const url = new URL(request.path, this.options.baseUrl);
    return new Promise<LaneResponse>((resolve, reject) => {
      const req = https.request({
        agent: this.agent,
        protocol: 'https:',
        hostname: url.hostname,
        port: url.port || 443,
        method: request.method,
        path: url.pathname + url.search,
        servername: isIP(url.hostname) ? undefined : url.hostname,
        headers: { 'User-Agent': 'Certbridge-ADCS-Client/0.1', Accept: '*/*', Connection: 'keep-alive' },
      });
      let settled = false;
      let bound: TLSSocket | undefined;
      // A submission wholly handed to the socket: from here on a cut connection may have lost its answer.
      let sent = false;
      if (request.once) req.once('finish', () => { sent = true; });
      const fail = (error: unknown): void => {
        if (settled) return;
        settled = true;
        const stale = req.reusedSocket && ((error as NodeJS.ErrnoException).code === 'ECONNRESET' || (error as Error).message === 'socket hang up');
        const failure = toAdcsError(error, url.origin, sent);
        reject(stale ? new StaleSocketError(failure) : failure);
      };
      req.setTimeout(this.options.timeoutMs, () => {
        const err = timeoutError(url.origin + url.pathname, this.options.timeoutMs, sent);
        fail(err);
        req.destroy(err);
      });
      req.on('error', fail);
      req.once('socket', (socket) => {
        bound = socket as TLSSocket;
        headerFor(bound).then((authorization) => {
          if (authorization) req.setHeader('Authorization', authorization);
          if (request.body) {
            req.setHeader('Content-Type', request.contentType ?? 'application/x-www-form-urlencoded');
            req.setHeader('Content-Length', request.body.length);
          }
          req.end(request.body);
        }, (error: unknown) => {
          fail(error instanceof AdcsError ? error : new AdcsError('ADCS_AUTH_FAILED', `authentication failed: ${(error as Error).message}`, { cause: error }));
          req.destroy();
        });
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY) {
            fail(new AdcsError('ADCS_UNEXPECTED_PAGE', `response from ${url.pathname} exceeds ${MAX_BODY} bytes`, { httpStatus: res.statusCode }));
            req.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', fail);
        res.on('end', () => {
          if (settled) return;
          settled = true;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), socket: bound ?? (req.socket as TLSSocket) });
        });
      });
    });
  }
}

class StaleSocketError extends Error {
  constructor(readonly failure: AdcsError) {
    super('a reused keep-alive connection was closed by the server');
  }
}
