/**
 * NTLMv2 computations ([MS-NLMP] 3.3.2): NTOWFv2, the NTProofStr check of an
 * NTLMv2_CLIENT_CHALLENGE, the session keys, the MIC, and the channel-binding hash of
 * RFC 5929 tls-server-end-point data ([MS-NLMP] 2.2.2.1 MsvAvChannelBindings).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { md4 } from './md4.ts';

function hmacMd5(key: Buffer, ...data: Buffer[]): Buffer {
  const h = createHmac('md5', key);
  for (const d of data) h.update(d);
  return h.digest();
}

/** NTOWFv2(password, user, domain) = HMAC_MD5(MD4(UNICODE(password)), UNICODE(Uppercase(user) + domain)). */
export function ntowfv2(password: string, user: string, domain: string): Buffer {
  return hmacMd5(md4(Buffer.from(password, 'utf16le')), Buffer.from(user.toUpperCase() + domain, 'utf16le'));
}

export interface V2Check {
  ok: boolean;
  sessionBaseKey: Buffer;
  /** The client's AV pairs inside the NTLMv2_CLIENT_CHALLENGE (temp), for MIC and bindings. */
  clientBlob: Buffer;
}

/**
 * Verifies an NtChallengeResponse: NTProofStr = HMAC_MD5(ResponseKeyNT, ServerChallenge || temp).
 * NTLMv1 responses (24 bytes) are refused, as on a domain with LmCompatibilityLevel 5.
 */
export function checkNtlmv2(responseKeyNt: Buffer, serverChallenge: Buffer, ntResponse: Buffer): V2Check {
  if (ntResponse.length < 16 + 28) return { ok: false, sessionBaseKey: Buffer.alloc(16), clientBlob: Buffer.alloc(0) };
  const proof = ntResponse.subarray(0, 16);
  const temp = ntResponse.subarray(16);
  const expected = hmacMd5(responseKeyNt, serverChallenge, temp);
  const ok = timingSafeEqual(proof, expected) && temp[0] === 1 && temp[1] === 1;
  return { ok, sessionBaseKey: hmacMd5(responseKeyNt, proof), clientBlob: temp };
}

/** AV pairs inside temp: after RespType, HiRespType, Reserved1/2, TimeStamp, ChallengeFromClient, Reserved3. */
export function clientAvPairs(temp: Buffer): Buffer {
  return temp.subarray(28);
}

/** RC4 (for KEY_EXCH): OpenSSL 3 keeps RC4 in the legacy provider too, so it is done here. */
export function rc4(key: Buffer, data: Buffer): Buffer {
  const s = Array.from({ length: 256 }, (_, i) => i);
  let j = 0;
  for (let i = 0; i < 256; i++) {
    j = (j + s[i] + key[i % key.length]) & 0xff;
    [s[i], s[j]] = [s[j], s[i]];
  }
  const out = Buffer.alloc(data.length);
  let i = 0;
  j = 0;
  for (let k = 0; k < data.length; k++) {
    i = (i + 1) & 0xff;
    j = (j + s[i]) & 0xff;
    [s[i], s[j]] = [s[j], s[i]];
    out[k] = data[k] ^ s[(s[i] + s[j]) & 0xff];
  }
  return out;
}

/** MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE-with-zero-MIC). */
export function computeMic(exportedSessionKey: Buffer, negotiate: Buffer, challenge: Buffer, authenticate: Buffer, micOffset: number): Buffer {
  const zeroed = Buffer.from(authenticate);
  zeroed.fill(0, micOffset, micOffset + 16);
  return hmacMd5(exportedSessionKey, negotiate, challenge, zeroed);
}

/**
 * MsvAvChannelBindings value: MD5 of a gss_channel_bindings_struct with empty addresses and
 * application data "tls-server-end-point:" || hash (RFC 5929 4; lengths little-endian as
 * Windows hashes them).
 */
export function channelBindingsHash(tlsServerEndPoint: Buffer): Buffer {
  const app = Buffer.concat([Buffer.from('tls-server-end-point:', 'ascii'), tlsServerEndPoint]);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(app.length, 0);
  return createHash('md5').update(Buffer.alloc(16)).update(len).update(app).digest();
}
