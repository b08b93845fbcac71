import { describe, expect, it } from 'vitest';
import { checkNtlmv2, ntowfv2 } from './ntlmv2.ts';
import { decodeAuthenticate, decodeAvPairs, decodeNegotiate, encodeAvPairs, AvId } from './messages.ts';

// [MS-NLMP] 4.2.4 NTLMv2 Authentication test values.
const user = 'User';
const domain = 'Domain';
const serverChallenge = Buffer.from('0123456789abcdef', 'hex');
const clientChallenge = Buffer.from('aaaaaaaaaaaaaaaa', 'hex');
const serverName = encodeAvPairs([
  [AvId.NbDomainName, Buffer.from('Domain', 'utf16le')],
  [AvId.NbComputerName, Buffer.from('Server', 'utf16le')],
]);
const temp = Buffer.concat([Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]), Buffer.alloc(8), clientChallenge, Buffer.alloc(4), serverName, Buffer.alloc(4)]);

describe('NTLMv2 ([MS-NLMP] 4.2.4)', () => {
  it('ok/NTOWFv2 known answer', () => {
    expect(ntowfv2('Password', user, domain).toString('hex')).toBe('0c868a403bfd7a93a3001ef22ef02e3f');
  });

  it('ok/NTProofStr verifies and yields the session base key', () => {
    const response = Buffer.concat([Buffer.from('68cd0ab851e51c96aabc927bebef6a1c', 'hex'), temp]);
    const r = checkNtlmv2(ntowfv2('Password', user, domain), serverChallenge, response);
    expect([r.ok, r.sessionBaseKey.toString('hex')]).toEqual([true, '8de40ccadbc14a82f15cb0ad0de95ca3']);
  });

  it('fail/wrong password does not verify', () => {
    const response = Buffer.concat([Buffer.from('68cd0ab851e51c96aabc927bebef6a1c', 'hex'), temp]);
    expect(checkNtlmv2(ntowfv2('password', user, domain), serverChallenge, response).ok).toBe(false);
  });

  it('fail/short (NTLMv1-sized) response is refused', () => {
    expect(checkNtlmv2(ntowfv2('Password', user, domain), serverChallenge, Buffer.alloc(24)).ok).toBe(false);
  });
});

describe('NTLM message decoding of malformed input', () => {
  const auth = Buffer.alloc(88);
  Buffer.from('NTLMSSP\0', 'latin1').copy(auth);
  auth.writeUInt32LE(3, 8);

  it.each([
    ['fail/empty', Buffer.alloc(0)],
    ['fail/random bytes', Buffer.from('d1e5a0c3b2f4e6a7c8b9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f70819', 'hex')],
    ['fail/signature only', Buffer.from('NTLMSSP\0', 'latin1')],
    ['fail/field past the end', (() => {
      const b = Buffer.from(auth);
      b.writeUInt16LE(400, 20);
      b.writeUInt32LE(88, 24);
      return b;
    })()],
    ['fail/negotiate type passed as authenticate', (() => {
      const b = Buffer.from(auth);
      b.writeUInt32LE(1, 8);
      return b;
    })()],
  ])('%s → undefined', (_n, buf) => {
    expect(decodeAuthenticate(buf)).toBeUndefined();
  });

  it('fail/truncated negotiate → undefined', () => {
    expect(decodeNegotiate(Buffer.from('NTLMSSP\0\x01\0', 'latin1'))).toBeUndefined();
  });

  it('fail/AV pair list running past its buffer → undefined', () => {
    expect(decodeAvPairs(Buffer.from([2, 0, 50, 0, 1, 2]))).toBeUndefined();
  });
});
