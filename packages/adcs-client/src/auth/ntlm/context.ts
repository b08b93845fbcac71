/**
 * One NTLM client handshake ([MS-NLMP] 3.1.5.1): NEGOTIATE out, CHALLENGE in, AUTHENTICATE out
 * with an NTLMv2 response, MsvAvTimestamp echo, MIC and (over TLS) MsvAvChannelBindings.
 * Connection-oriented NTLM authenticates the TCP connection, so one context is used per socket.
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { decodeChallenge, encodeAuthenticate, encodeNegotiate, CLIENT_FLAGS, MIC_OFFSET, NTLMSSP, type ChallengeMessage } from './messages.ts';
import { clientTargetInfo, computeLmv2, computeMic, computeNtlmv2, fileTime, ntowfv2 } from './ntlmv2.ts';

export interface NtlmCredentials {
  /** `user`, `DOMAIN\user` or a UPN `user@corp.example` (then the domain is left empty). */
  username: string;
  password: string;
  domain?: string;
  workstation?: string;
}

export interface NtlmContextOptions {
  /** MsvAvChannelBindings value (see channel-bindings.ts); omitted means not over TLS. */
  channelBindings?: Buffer;
  /** SPN for MsvAvTargetName, e.g. `HTTP/ca.corp.example`. */
  targetName?: string;
  now?: () => Date;
  randomBytes?: (n: number) => Buffer;
}

/** Splits `DOMAIN\user`; an explicit `domain` wins over the prefix. */
export function splitUser(credentials: NtlmCredentials): { user: string; domain: string } {
  const slash = credentials.username.indexOf('\\');
  const prefixDomain = slash >= 0 ? credentials.username.slice(0, slash) : '';
  const user = slash >= 0 ? credentials.username.slice(slash + 1) : credentials.username;
  const domain = credentials.domain ?? prefixDomain;
  return { user, domain: user.includes('@') && credentials.domain === undefined ? '' : domain };
}

export class NtlmContext {
  private negotiateMessage?: Buffer;
  private readonly now: () => Date;
  private readonly random: (n: number) => Buffer;

  constructor(private readonly credentials: NtlmCredentials, private readonly options: NtlmContextOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.random = options.randomBytes ?? cryptoRandomBytes;
  }

  /** The NEGOTIATE_MESSAGE bytes (remembered for the MIC). */
  negotiate(): Buffer {
    this.negotiateMessage = encodeNegotiate(CLIENT_FLAGS);
    return this.negotiateMessage;
  }

  /**
   * Answers a CHALLENGE_MESSAGE. `late` supplies values only known once the challenge arrived
   * (the TLS peer certificate for channel bindings). Throws a plain Error when the challenge is malformed or the
   * server refuses NTLMv2-capable flags.
   */
  authenticate(challengeBytes: Buffer, late: Pick<NtlmContextOptions, 'channelBindings' | 'targetName'> = {}): Buffer {
    const negotiate = this.negotiateMessage ?? this.negotiate();
    const challenge: ChallengeMessage = decodeChallenge(challengeBytes);
    if ((challenge.flags & NTLMSSP.NEGOTIATE_UNICODE) === 0) throw new Error('server did not accept Unicode NTLM (OEM-only servers are not supported)');
    const { user, domain } = splitUser(this.credentials);
    const responseKey = ntowfv2(this.credentials.password, user, domain);
    const clientChallenge = this.random(8);
    const channelBindings = late.channelBindings ?? this.options.channelBindings;
    const targetName = late.targetName ?? this.options.targetName;
    const info = clientTargetInfo(challenge.targetInfo, {
      ...(channelBindings ? { channelBindings } : {}),
      ...(targetName ? { targetName } : {}),
    });
    const v2 = computeNtlmv2({
      responseKeyNT: responseKey,
      serverChallenge: challenge.serverChallenge,
      clientChallenge,
      time: info.serverTime ?? fileTime(this.now()),
      targetInfo: info.targetInfo,
    });
    // [MS-NLMP] 3.1.5.1.2: with MsvAvTimestamp the LmChallengeResponse is Z(24).
    const lmResponse = info.micRequired ? Buffer.alloc(24) : computeLmv2(responseKey, challenge.serverChallenge, clientChallenge);
    // Keep only flags both sides agreed on; KEY_EXCH is never requested (see messages.ts).
    const flags = (CLIENT_FLAGS & challenge.flags) >>> 0;
    const message = encodeAuthenticate({
      flags,
      lmResponse,
      ntResponse: v2.ntChallengeResponse,
      domain,
      user,
      workstation: this.credentials.workstation ?? '',
      encryptedRandomSessionKey: Buffer.alloc(0),
    });
    if (info.micRequired) {
      computeMic(v2.sessionBaseKey, negotiate, challenge.raw, message).copy(message, MIC_OFFSET);
    }
    return message;
  }
}
