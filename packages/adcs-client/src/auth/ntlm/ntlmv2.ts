/**
 * NTLMv2 cryptography ([MS-NLMP] 3.3.2) and the MIC (3.1.5.1.2).
 *
 * There is no well-kept npm NTLM library that does NTLMv2 together with channel bindings (EPA)
 * and the MIC: the common ones (`httpntlm`, `ntlm-client`, `axios-ntlm`) stop at NTLMv2 without
 * MsvAvChannelBindings or MIC, which an IIS with Extended Protection "Required" refuses. So the
 * few functions needed are written here against the spec and its 4.2.4 test vectors.
 */
import { createHash, createHmac } from 'node:crypto';
import { md4 } from './md4.ts';
import { AvId, MSV_AV_FLAG_MIC_PRESENT, encodeAvPairs, findAvPair, parseAvPairs, type AvPair } from './av-pairs.ts';

export function hmacMd5(key: Uint8Array, ...data: Uint8Array[]): Buffer {
  const h = createHmac('md5', key);
  for (const d of data) h.update(d);
  return h.digest();
}

/** NTOWFv2 = HMAC_MD5(MD4(UNICODE(Passwd)), UNICODE(Uppercase(User) ++ UserDom)). */
export function ntowfv2(password: string, user: string, domain: string): Buffer {
  return hmacMd5(md4(Buffer.from(password, 'utf16le')), Buffer.from(user.toUpperCase() + domain, 'utf16le'));
}

/** Windows FILETIME (100 ns ticks since 1601-01-01) as 8 bytes LE. */
export function fileTime(date: Date): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE((BigInt(date.getTime()) + 11_644_473_600_000n) * 10_000n);
  return out;
}

export interface Ntlmv2Input {
  responseKeyNT: Buffer;
  serverChallenge: Buffer;
  clientChallenge: Buffer;
  /** 8-byte FILETIME: the server's MsvAvTimestamp when it sent one, else the client clock. */
  time: Buffer;
  /** The AV_PAIR list placed in the client blob (already with the client's additions). */
  targetInfo: Buffer;
}

export interface Ntlmv2Output {
  ntChallengeResponse: Buffer;
  ntProofStr: Buffer;
  sessionBaseKey: Buffer;
}

/** ComputeResponse for NTLMv2 ([MS-NLMP] 3.3.2). */
export function computeNtlmv2(input: Ntlmv2Input): Ntlmv2Output {
  const temp = Buffer.concat([
    Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]), // Responserversion, HiResponserversion, Z(6)
    input.time,
    input.clientChallenge,
    Buffer.alloc(4),
    input.targetInfo,
    Buffer.alloc(4),
  ]);
  const ntProofStr = hmacMd5(input.responseKeyNT, input.serverChallenge, temp);
  return {
    ntChallengeResponse: Buffer.concat([ntProofStr, temp]),
    ntProofStr,
    sessionBaseKey: hmacMd5(input.responseKeyNT, ntProofStr),
  };
}

/** LMv2 response: HMAC_MD5(ResponseKeyLM, ServerChallenge ++ ClientChallenge) ++ ClientChallenge. */
export function computeLmv2(responseKeyLM: Buffer, serverChallenge: Buffer, clientChallenge: Buffer): Buffer {
  return Buffer.concat([hmacMd5(responseKeyLM, serverChallenge, clientChallenge), clientChallenge]);
}

/** MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE ++ CHALLENGE ++ AUTHENTICATE with MIC zeroed). */
export function computeMic(exportedSessionKey: Buffer, negotiate: Buffer, challenge: Buffer, authenticate: Buffer): Buffer {
  return hmacMd5(exportedSessionKey, negotiate, challenge, authenticate);
}

export interface ClientTargetInfoOptions {
  /** MD5 of the gss_channel_bindings_struct; all-zero when not over TLS ([MS-NLMP] 3.1.5.1.2). */
  channelBindings?: Buffer;
  /** SPN of the service, e.g. `HTTP/ca.corp.example`. */
  targetName?: string;
}

/**
 * The client's copy of the server TargetInfo ([MS-NLMP] 3.1.5.1.2): MsvAvFlags gains
 * MIC-present when the server sent MsvAvTimestamp, and MsvAvChannelBindings and MsvAvTargetName
 * are appended. Returns the encoded list and whether a MIC must be sent.
 */
export function clientTargetInfo(serverTargetInfo: Buffer, options: ClientTargetInfoOptions): { targetInfo: Buffer; micRequired: boolean; serverTime?: Buffer } {
  const pairs: AvPair[] = parseAvPairs(serverTargetInfo).filter((p) => p.id !== AvId.MsvAvChannelBindings && p.id !== AvId.MsvAvTargetName);
  const serverTime = findAvPair(pairs, AvId.MsvAvTimestamp);
  const micRequired = serverTime !== undefined;
  if (micRequired) {
    const existing = pairs.find((p) => p.id === AvId.MsvAvFlags);
    const flags = Buffer.alloc(4);
    flags.writeUInt32LE(((existing?.value.length === 4 ? existing.value.readUInt32LE(0) : 0) | MSV_AV_FLAG_MIC_PRESENT) >>> 0);
    if (existing) existing.value = flags;
    else pairs.push({ id: AvId.MsvAvFlags, value: flags });
  }
  pairs.push({ id: AvId.MsvAvChannelBindings, value: options.channelBindings ?? Buffer.alloc(16) });
  if (options.targetName) pairs.push({ id: AvId.MsvAvTargetName, value: Buffer.from(options.targetName, 'utf16le') });
  return { targetInfo: encodeAvPairs(pairs), micRequired, ...(serverTime ? { serverTime } : {}) };
}

export function md5(data: Uint8Array): Buffer {
  return createHash('md5').update(data).digest();
}
