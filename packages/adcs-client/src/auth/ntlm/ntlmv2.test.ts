import { describe, expect, it } from 'vitest';
import { AvId, encodeAvPairs } from './av-pairs.ts';
import { computeLmv2, computeNtlmv2, fileTime, ntowfv2 } from './ntlmv2.ts';

// [MS-NLMP] 4.2.4: User "User", UserDom "Domain", Passwd "Password", ServerChallenge
// 0123456789abcdef, ClientChallenge aa*8, Time 0, TargetInfo NbDomainName "Domain" +
// NbComputerName "Server".
const serverChallenge = Buffer.from('0123456789abcdef', 'hex');
const clientChallenge = Buffer.alloc(8, 0xaa);
const targetInfo = encodeAvPairs([
  { id: AvId.MsvAvNbDomainName, value: Buffer.from('Domain', 'utf16le') },
  { id: AvId.MsvAvNbComputerName, value: Buffer.from('Server', 'utf16le') },
]);
const key = ntowfv2('Password', 'User', 'Domain');
const v2 = computeNtlmv2({ responseKeyNT: key, serverChallenge, clientChallenge, time: Buffer.alloc(8), targetInfo });

describe('NTLMv2 (MS-NLMP 4.2.4 vectors)', () => {
  it.each([
    ['ok/ntowfv2-4.2.4.1.1', () => key, '0c868a403bfd7a93a3001ef22ef02e3f'],
    ['ok/session-base-key-4.2.4.1.3', () => v2.sessionBaseKey, '8de40ccadbc14a82f15cb0ad0de95ca3'],
    ['ok/lmv2-response-4.2.4.2.1', () => computeLmv2(key, serverChallenge, clientChallenge), '86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa'],
    ['ok/ntproofstr-4.2.4.2.2', () => v2.ntProofStr, '68cd0ab851e51c96aabc927bebef6a1c'],
  ])('%s', (_name, value, hex) => {
    expect(value().toString('hex')).toBe(hex);
  });

  it('ok/nt-response-is-proof-then-blob', () => {
    const expectedBlob = Buffer.concat([Buffer.from('0101000000000000', 'hex'), Buffer.alloc(8), clientChallenge, Buffer.alloc(4), targetInfo, Buffer.alloc(4)]);
    expect(v2.ntChallengeResponse.subarray(16).toString('hex')).toBe(expectedBlob.toString('hex'));
  });

  it('ok/filetime-of-unix-epoch', () => {
    expect(fileTime(new Date(0)).readBigUInt64LE()).toBe(116444736000000000n);
  });
});
