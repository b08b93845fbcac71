/**
 * The server side of NTLM over HTTP as IIS runs it with Windows authentication: answers
 * NEGOTIATE with a CHALLENGE (target info naming the domain and this host, with a timestamp so
 * modern clients add a MIC), then verifies the AUTHENTICATE message — NTLMv2 proof against the
 * configured password, the MIC when the client flags one, and Extended Protection
 * (KB5005413 / [MS-NLMP] 3.2.5.1.2 MsvAvChannelBindings) per `auth.epa`:
 *   off      — bindings ignored;
 *   accept   — bindings checked when the client sends non-zero ones ("Partial"/"Accept");
 *   required — bindings must be present and match the tls-server-end-point of our certificate.
 * Not emulated: the MsvAvTargetName (SPN) check EPA also makes, NTLMv1/LM, and timestamp skew.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { SimConfig } from '../../config.ts';
import { findAccount } from '../accounts.ts';
import type { NtlmAcceptor, NtlmSuccess } from '../gate.ts';
import { AvId, AV_FLAG_MIC, decodeAuthenticate, decodeAvPairs, decodeNegotiate, encodeAvPairs, encodeChallenge, Flags } from './messages.ts';
import { channelBindingsHash, checkNtlmv2, clientAvPairs, computeMic, ntowfv2, rc4 } from './ntlmv2.ts';

interface HandshakeState {
  serverChallenge: Buffer;
  negotiate: Buffer;
  challenge: Buffer;
}

function isHandshake(v: unknown): v is HandshakeState {
  return typeof v === 'object' && v !== null && Buffer.isBuffer((v as HandshakeState).serverChallenge);
}

/** Windows FILETIME (100 ns since 1601-01-01) as 8 little-endian bytes. */
function filetime(now: Date): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE((BigInt(now.getTime()) + 11_644_473_600_000n) * 10_000n);
  return b;
}

function netbios(host: string): string {
  return (host.split('.')[0] ?? host).toUpperCase().slice(0, 15);
}

const MIRRORED = Flags.SIGN | Flags.SEAL | Flags.KEY_EXCH | Flags.N128 | Flags.N56 | Flags.ALWAYS_SIGN | Flags.EXTENDED_SESSIONSECURITY;

export function createNtlmAcceptor(config: SimConfig): NtlmAcceptor {
  const directory = { domain: config.domain, dnsDomain: config.dnsDomain, users: config.users };
  const utf16 = (s: string): Buffer => Buffer.from(s, 'utf16le');

  function challenge(negotiate: Buffer): { message: Buffer; state: unknown } | undefined {
    const neg = decodeNegotiate(negotiate);
    if (!neg) return undefined;
    const charset = neg.flags & Flags.UNICODE ? Flags.UNICODE : Flags.OEM;
    const flags =
      (charset | Flags.REQUEST_TARGET | Flags.NTLM | Flags.TARGET_TYPE_DOMAIN | Flags.TARGET_INFO | Flags.VERSION | (neg.flags & MIRRORED)) >>> 0;
    const targetInfo = encodeAvPairs([
      [AvId.NbDomainName, utf16(config.domain)],
      [AvId.NbComputerName, utf16(netbios(config.host))],
      [AvId.DnsDomainName, utf16(config.dnsDomain)],
      [AvId.DnsComputerName, utf16(config.host)],
      [AvId.DnsTreeName, utf16(config.dnsDomain)],
      [AvId.Timestamp, filetime(new Date())],
    ]);
    const serverChallenge = randomBytes(8);
    const message = encodeChallenge({ flags, serverChallenge, targetName: config.domain, targetInfo });
    const state: HandshakeState = { serverChallenge, negotiate: Buffer.from(negotiate), challenge: message };
    return { message, state };
  }

  function bindingsAcceptable(sent: Buffer | undefined, tlsEndPoint: Buffer): boolean {
    const mode = config.auth.epa;
    if (mode === 'off') return true;
    const absent = !sent || sent.every((b) => b === 0);
    if (absent) return mode === 'accept';
    return sent.length === 16 && timingSafeEqual(sent, channelBindingsHash(tlsEndPoint));
  }

  function authenticate(blob: Buffer, state: unknown, tlsEndPoint: Buffer): NtlmSuccess | undefined {
    if (!isHandshake(state)) return undefined;
    const msg = decodeAuthenticate(blob);
    if (!msg || !msg.user) return undefined;
    const account = findAccount(directory, msg.domain, msg.user);
    if (!account) return undefined;
    const v2 = checkNtlmv2(ntowfv2(account.password, msg.user, msg.domain), state.serverChallenge, msg.ntResponse);
    if (!v2.ok) return undefined;
    const pairs = decodeAvPairs(clientAvPairs(v2.clientBlob));
    if (!pairs) return undefined;
    const exported =
      msg.flags & Flags.KEY_EXCH && msg.encryptedRandomSessionKey.length === 16
        ? rc4(v2.sessionBaseKey, msg.encryptedRandomSessionKey)
        : v2.sessionBaseKey;
    const avFlags = pairs.get(AvId.Flags);
    if (avFlags && avFlags.length === 4 && avFlags.readUInt32LE(0) & AV_FLAG_MIC) {
      if (msg.micOffset === undefined) return undefined;
      const mic = computeMic(exported, state.negotiate, state.challenge, blob, msg.micOffset);
      if (!timingSafeEqual(mic, blob.subarray(msg.micOffset, msg.micOffset + 16))) return undefined;
    }
    if (!bindingsAcceptable(pairs.get(AvId.ChannelBindings), tlsEndPoint)) return undefined;
    return { user: account, exportedSessionKey: exported, flags: msg.flags };
  }

  return { challenge, authenticate };
}
