/**
 * IIS-style authentication in front of /certsrv: answers 401 with the configured
 * `WWW-Authenticate` offers (Negotiate, NTLM, Basic), runs the NTLM and Negotiate handshakes,
 * and — like IIS with Windows authentication — remembers an authenticated identity per TCP
 * connection, so later requests on the same keep-alive connection need no Authorization header.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { AuthConfig, UserConfig } from '../config.ts';
import type { Directory } from './accounts.ts';
import { verifyBasic } from './basic.ts';

/** The NTLM acceptor's view of one connection's handshake (auth/ntlm/acceptor.ts). */
export interface NtlmAcceptor {
  /** Handles NEGOTIATE_MESSAGE; returns the CHALLENGE_MESSAGE and the state to keep. */
  challenge(negotiate: Buffer): { message: Buffer; state: unknown } | undefined;
  /** Verifies AUTHENTICATE_MESSAGE against the kept state; the account or undefined. */
  authenticate(authenticate: Buffer, state: unknown, channelBindingHash: Buffer): UserConfig | undefined;
}

/** A Kerberos (SPNEGO) acceptor: one step of GSS accept; returns the account and output token. */
export interface NegotiateAcceptor {
  accept(token: Buffer): Promise<{ user?: UserConfig; output?: Buffer } | undefined>;
}

export type GateResult = { kind: 'ok'; user: UserConfig; headers: Array<[string, string]> } | { kind: 'challenge'; headers: Array<[string, string]> };

interface ConnectionAuth {
  user?: UserConfig;
  ntlmState?: unknown;
}

export interface GateDeps {
  auth: () => AuthConfig;
  directory: Directory;
  host: string;
  /** RFC 5929 tls-server-end-point hash of the certificate served on this socket. */
  channelBindingHash: (socket: Socket) => Buffer;
  ntlm?: NtlmAcceptor;
  negotiate?: NegotiateAcceptor;
}

const NTLMSSP = Buffer.from('NTLMSSP\0', 'latin1');

export class AuthGate {
  private readonly conns = new WeakMap<Socket, ConnectionAuth>();

  constructor(private readonly deps: GateDeps) {}

  /** The 401 offers, in IIS's order (providers list: Negotiate, NTLM; then Basic). */
  offers(): Array<[string, string]> {
    const a = this.deps.auth();
    const out: Array<[string, string]> = [];
    if (a.negotiate) out.push(['WWW-Authenticate', 'Negotiate']);
    if (a.ntlm) out.push(['WWW-Authenticate', 'NTLM']);
    if (a.basic) out.push(['WWW-Authenticate', `Basic realm="${this.deps.host}"`]);
    return out;
  }

  private conn(socket: Socket): ConnectionAuth {
    let c = this.conns.get(socket);
    if (!c) {
      c = {};
      this.conns.set(socket, c);
    }
    return c;
  }

  private reject(c: ConnectionAuth): GateResult {
    c.user = undefined;
    c.ntlmState = undefined;
    return { kind: 'challenge', headers: this.offers() };
  }

  async check(req: IncomingMessage): Promise<GateResult> {
    const a = this.deps.auth();
    const c = this.conn(req.socket);
    const header = req.headers.authorization;
    if (!header) return c.user ? { kind: 'ok', user: c.user, headers: [] } : this.reject(c);
    const space = header.indexOf(' ');
    const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
    const token = space < 0 ? '' : header.slice(space + 1).trim();
    if (scheme === 'basic') {
      const user = a.basic ? verifyBasic(this.deps.directory, token) : undefined;
      return user ? { kind: 'ok', user, headers: [] } : this.reject(c);
    }
    if (scheme !== 'ntlm' && scheme !== 'negotiate') return this.reject(c);
    const blob = Buffer.from(token, 'base64');
    const isNtlm = blob.subarray(0, 8).equals(NTLMSSP);
    if (isNtlm && a.ntlm && this.deps.ntlm) return this.ntlmStep(c, req, scheme === 'ntlm' ? 'NTLM' : 'Negotiate', blob);
    if (!isNtlm && scheme === 'negotiate' && a.negotiate && this.deps.negotiate) return this.negotiateStep(c, blob);
    return this.reject(c);
  }

  private ntlmStep(c: ConnectionAuth, req: IncomingMessage, scheme: string, blob: Buffer): GateResult {
    const ntlm = this.deps.ntlm;
    if (!ntlm) return this.reject(c);
    const type = blob.length >= 12 ? blob.readUInt32LE(8) : 0;
    if (type === 1) {
      const ch = ntlm.challenge(blob);
      if (!ch) return this.reject(c);
      c.user = undefined;
      c.ntlmState = ch.state;
      return { kind: 'challenge', headers: [['WWW-Authenticate', `${scheme} ${ch.message.toString('base64')}`]] };
    }
    if (type === 3 && c.ntlmState !== undefined) {
      const user = ntlm.authenticate(blob, c.ntlmState, this.deps.channelBindingHash(req.socket));
      c.ntlmState = undefined;
      if (!user) return this.reject(c);
      c.user = user;
      return { kind: 'ok', user, headers: [] };
    }
    return this.reject(c);
  }

  private async negotiateStep(c: ConnectionAuth, blob: Buffer): Promise<GateResult> {
    const result = await this.deps.negotiate?.accept(blob).catch(() => undefined);
    if (!result?.user) return this.reject(c);
    c.user = result.user;
    const headers: Array<[string, string]> = result.output ? [['WWW-Authenticate', `Negotiate ${result.output.toString('base64')}`]] : [];
    return { kind: 'ok', user: result.user, headers };
  }
}
