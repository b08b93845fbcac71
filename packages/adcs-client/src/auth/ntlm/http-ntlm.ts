/**
 * NTLM over HTTP (`Authorization: NTLM <base64>`, [MS-NTHT] 2.2): type 1 on the first leg,
 * type 3 after the server's 401 carrying type 2. Over TLS the server certificate of the very
 * socket that carries the handshake feeds the channel bindings (EPA), so the binding always
 * matches the connection IIS authenticates.
 */
import type { TLSSocket } from 'node:tls';
import { tokenFor, type AuthHandshake, type AuthMechanism } from '../types.ts';
import { ntlmChannelBindings } from './channel-bindings.ts';
import { NtlmContext, type NtlmCredentials } from './context.ts';

export interface NtlmAuthOptions {
  /** Send MsvAvChannelBindings (default true). False reproduces clients without EPA, for probing. */
  channelBindings?: boolean;
  /** Host name for the SPN `HTTP/<host>` in MsvAvTargetName. */
  host?: string;
  /** Header scheme: `NTLM` (default) or `Negotiate` (raw NTLMSSP inside Negotiate, which IIS accepts). */
  scheme?: 'NTLM' | 'Negotiate';
}

export function ntlmAuth(credentials: NtlmCredentials, options: NtlmAuthOptions = {}): AuthMechanism {
  const scheme = options.scheme ?? 'NTLM';
  return {
    kind: scheme === 'NTLM' ? 'ntlm' : 'negotiate',
    scheme,
    startHandshake: (): AuthHandshake => {
      let context: NtlmContext | undefined;
      let legs = 0;
      return {
        async step(challenges: readonly string[] | undefined, socket: TLSSocket): Promise<string | undefined> {
          legs += 1;
          if (challenges === undefined || context === undefined) {
            context = new NtlmContext(credentials);
            return `${scheme} ${context.negotiate().toString('base64')}`;
          }
          const challenge = tokenFor(scheme, challenges);
          if (!challenge || legs > 2) return undefined;
          const peer = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate(false) : undefined;
          const bind = options.channelBindings !== false && peer?.raw ? ntlmChannelBindings(peer.raw) : undefined;
          const message = context.authenticate(challenge, {
            ...(bind ? { channelBindings: bind } : {}),
            ...(options.host ? { targetName: `HTTP/${options.host}` } : {}),
          });
          return `${scheme} ${message.toString('base64')}`;
        },
      };
    },
  };
}
