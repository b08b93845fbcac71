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
import { Flags } from './ntlm/messages.ts';
import { ntlmSignature } from './ntlm/signing.ts';
import { decodeNegTokenInit, decodeNegTokenResp, encodeNegTokenResp, NegState } from './spnego.ts';

/** A verified NTLM logon: the account and what SPNEGO's mechListMIC needs. */
export interface NtlmSuccess {
  user: UserConfig;
  exportedSessionKey: Buffer;
  flags: number;
}

/** The NTLM acceptor's view of one connection's handshake (auth/ntlm/acceptor.ts). */
export interface NtlmAcceptor {
  /** Handles NEGOTIATE_MESSAGE; returns the CHALLENGE_MESSAGE and the state to keep. */
  challenge(negotiate: Buffer): { message: Buffer; state: unknown } | undefined;
  /** Verifies AUTHENTICATE_MESSAGE against the kept state; undefined when refused. */
  authenticate(authenticate: Buffer, state: unknown, channelBindingHash: Buffer): NtlmSuccess | undefined;
}

/** A Kerberos (SPNEGO) acceptor: one step of GSS accept; returns the account and output token. */
export interface NegotiateAcceptor {
  accept(token: Buffer): Promise<{ user?: UserConfig; output?: Buffer } | undefined>;
}

export type GateResult = { kind: 'ok'; user: UserConfig; headers: Array<[string, string]> } | { kind: 'challenge'; headers: Array<[string, string]> };

interface ConnectionAuth {
  user?: UserConfig;
  ntlmState?: unknown;
  /** Set when the NTLM handshake runs inside SPNEGO: the mechTypes DER the MICs sign. */
  spnegoMechTypes?: Buffer;
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
    c.spnegoMechTypes = undefined;
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
    if (scheme !== 'negotiate') return this.reject(c);
    const wrapped = a.ntlm && this.deps.ntlm ? this.spnegoNtlmStep(c, req, blob) : undefined;
    if (wrapped) return wrapped;
    if (a.negotiate && this.deps.negotiate) return this.negotiateStep(c, blob);
    return this.reject(c);
  }

  /**
   * NTLM inside SPNEGO (what Windows SSPI and MIT GSS with gss-ntlmssp send under Negotiate when
   * Kerberos is unavailable). Returns undefined when the token is not SPNEGO-wrapped NTLM, so
   * Kerberos can have it.
   */
  private spnegoNtlmStep(c: ConnectionAuth, req: IncomingMessage, blob: Buffer): GateResult | undefined {
    const init = decodeNegTokenInit(blob);
    if (init) {
      if (!init.mechToken?.subarray(0, 8).equals(NTLMSSP)) return undefined;
      const step = this.ntlmStep(c, req, 'Negotiate', init.mechToken);
      if (step.kind !== 'challenge' || c.ntlmState === undefined) return step;
      c.spnegoMechTypes = init.mechTypesDer;
      const challenge = Buffer.from(step.headers[0][1].slice('Negotiate '.length), 'base64');
      const token = encodeNegTokenResp({ negState: NegState.acceptIncomplete, withMech: true, responseToken: challenge });
      return { kind: 'challenge', headers: [['WWW-Authenticate', `Negotiate ${token.toString('base64')}`]] };
    }
    const resp = decodeNegTokenResp(blob);
    if (!resp || !c.spnegoMechTypes || c.ntlmState === undefined) return resp ? this.reject(c) : undefined;
    const mechTypes = c.spnegoMechTypes;
    const done = resp.responseToken ? this.deps.ntlm?.authenticate(resp.responseToken, c.ntlmState, this.deps.channelBindingHash(req.socket)) : undefined;
    c.ntlmState = undefined;
    c.spnegoMechTypes = undefined;
    if (!done) return this.reject(c);
    // mechListMIC ([MS-SPNG] 3.1.5.1): checked when sent; ours goes back with accept-completed.
    const ess = (done.flags & Flags.EXTENDED_SESSIONSECURITY) !== 0;
    if (resp.mechListMIC && ess) {
      const want = ntlmSignature(done.exportedSessionKey, done.flags, 'client-to-server', 0, mechTypes);
      if (!want.equals(resp.mechListMIC)) return this.reject(c);
    }
    const mic = ess ? ntlmSignature(done.exportedSessionKey, done.flags, 'server-to-client', 0, mechTypes) : undefined;
    c.user = done.user;
    const token = encodeNegTokenResp({ negState: NegState.acceptCompleted, withMech: false, mechListMIC: mic });
    return { kind: 'ok', user: done.user, headers: [['WWW-Authenticate', `Negotiate ${token.toString('base64')}`]] };
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
      const done = ntlm.authenticate(blob, c.ntlmState, this.deps.channelBindingHash(req.socket));
      c.ntlmState = undefined;
      if (!done) return this.reject(c);
      c.user = done.user;
      return { kind: 'ok', user: done.user, headers: [] };
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
