/**
 * Authenticated HTTPS transport to one certsrv site: a small pool of keep-alive lanes
 * (see lane.ts) and the authentication loop.
 *
 * Connection-bound schemes (NTLM, Negotiate) run their handshake once per TCP connection: the
 * socket is remembered as authenticated and later requests on it carry no `Authorization`
 * header, exactly as a browser behaves against IIS. When IIS answers 401 on such a socket
 * (connection recycled, auth state dropped) the handshake is run again on that request.
 */
import type { TLSSocket } from 'node:tls';
import { AdcsError } from '../errors.ts';
import { excerptOf } from '../pages/html.ts';
import { offeredSchemes, type AuthHandshake, type AuthMechanism } from '../auth/types.ts';
import { Lane, type LaneOptions, type LaneRequest, type LaneResponse } from './lane.ts';

export interface TransportOptions extends LaneOptions {
  auth: AuthMechanism;
  /** Parallel keep-alive connections (each authenticated once). Default 2. */
  maxSockets?: number;
}

export interface TransportStats {
  /** Handshakes started (NTLM type 1 / Kerberos AP-REQ sent). */
  handshakes: number;
  requests: number;
}

const MAX_LEGS = 6;

export class Transport {
  readonly stats: TransportStats = { handshakes: 0, requests: 0 };
  private readonly lanes: Lane[];
  private readonly waiters: Array<(lane: Lane) => void> = [];
  private readonly authenticated = new WeakSet<TLSSocket>();

  constructor(private readonly options: TransportOptions) {
    const count = Math.max(1, Math.min(options.maxSockets ?? 2, 16));
    this.lanes = Array.from({ length: count }, () => new Lane(options));
  }

  /** Sends a request, authenticating as needed; non-401 answers are returned as they are. */
  async request(request: LaneRequest): Promise<LaneResponse> {
    const lane = await this.acquire();
    try {
      return await this.authenticate(lane, request);
    } finally {
      this.release(lane);
    }
  }

  close(): Promise<void> {
    for (const lane of this.lanes) lane.destroy();
    return this.options.auth.close?.() ?? Promise.resolve();
  }

  private async authenticate(lane: Lane, request: LaneRequest): Promise<LaneResponse> {
    const mech = this.options.auth;
    let handshake: { h: AuthHandshake; socket: TLSSocket } | undefined;
    let challenges: string[] | undefined;
    let moved = 0;
    for (let leg = 0; leg < MAX_LEGS; leg++) {
      this.stats.requests += 1;
      const res = await lane.send(request, async (socket) => {
        if (mech.staticHeader) return mech.staticHeader();
        if (!mech.startHandshake) return undefined;
        if (handshake === undefined && this.authenticated.has(socket)) return undefined;
        if (handshake !== undefined && handshake.socket !== socket && ++moved >= 2) {
          throw new AdcsError('ADCS_AUTH_FAILED', `the server closed the connection during the ${mech.scheme} handshake; connection-bound authentication needs HTTP keep-alive end to end (check proxies and load balancers)`);
        }
        if (handshake === undefined || handshake.socket !== socket) {
          // New connection, or the server closed the previous one between legs: start over.
          handshake = { h: mech.startHandshake(), socket };
          this.stats.handshakes += 1;
          return handshake.h.step(undefined, socket);
        }
        const next = await handshake.h.step(challenges, socket);
        if (next === undefined) throw rejected(mech, challenges ?? [], 401, '');
        return next;
      });
      if (res.status !== 401) {
        if (handshake) this.authenticated.add(res.socket);
        return res;
      }
      const offered = wwwAuthenticate(res);
      if (mech.staticHeader || !mech.startHandshake) throw rejected(mech, offered, 401, res.body.toString('latin1'));
      if (handshake === undefined) {
        this.authenticated.delete(res.socket);
        continue;
      }
      if (!offered.some((v) => v.toLowerCase().startsWith(`${mech.scheme.toLowerCase()} `))) {
        throw rejected(mech, offered, 401, res.body.toString('latin1'));
      }
      challenges = offered;
    }
    throw new AdcsError('ADCS_AUTH_FAILED', `${mech.scheme} handshake did not complete in ${MAX_LEGS} legs`);
  }

  private acquire(): Promise<Lane> {
    const idle = this.lanes.find((l) => !l.busy);
    if (idle) {
      idle.busy = true;
      return Promise.resolve(idle);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(lane: Lane): void {
    const next = this.waiters.shift();
    if (next) next(lane);
    else lane.busy = false;
  }
}

function wwwAuthenticate(res: LaneResponse): string[] {
  const raw = res.headers['www-authenticate'];
  if (raw === undefined) return [];
  return Array.isArray(raw) ? raw : [raw];
}

/** The final 401: says which schemes the server offers, so "Kerberos only" is visible. */
function rejected(mech: AuthMechanism, offered: readonly string[], status: number, body: string): AdcsError {
  const schemes = offeredSchemes(offered);
  const notOffered = schemes.length > 0 && !schemes.some((s) => s.toLowerCase() === mech.scheme.toLowerCase());
  const message = notOffered
    ? `the server does not offer ${mech.scheme} authentication (it offers ${schemes.join(', ')})`
    : `${mech.scheme} authentication was rejected: wrong credentials, no permission, or Extended Protection requires channel binding`;
  return new AdcsError('ADCS_AUTH_FAILED', message, { httpStatus: status, ...(body ? { excerpt: excerptOf(body) } : {}) });
}
