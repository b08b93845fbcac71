import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Flags } from './messages.ts';
import { rc4 } from './ntlmv2.ts';
import { ntlmSignature, sealKey, signKey } from './signing.ts';

// [MS-NLMP] 4.2.4 (NTLMv2): RandomSessionKey 0x55 × 16, NTLMSSP_NEGOTIATE_128 and KEY_EXCH.
const exported = Buffer.alloc(16, 0x55);
const flags = Flags.N128 | Flags.KEY_EXCH | Flags.EXTENDED_SESSIONSECURITY;
const plaintext = Buffer.from('Plaintext', 'utf16le');

describe('NTLM signing keys and signature ([MS-NLMP] 4.2.4.1.4, 4.2.4.4)', () => {
  it('ok/client SignKey', () => {
    expect(signKey(exported, 'client-to-server').toString('hex')).toBe('4788dc861b4782f35d43fd98fe1a2d39');
  });

  it('ok/client SealKey', () => {
    expect(sealKey(exported, flags, 'client-to-server').toString('hex')).toBe('59f600973cc4960a25480a7c196e4c58');
  });

  it('ok/GSS_WrapEx example: sealed data and checksum continue one RC4 stream', () => {
    const seq = Buffer.alloc(4);
    const checksum = createHmac('md5', signKey(exported, 'client-to-server')).update(seq).update(plaintext).digest().subarray(0, 8);
    const stream = rc4(sealKey(exported, flags, 'client-to-server'), Buffer.concat([plaintext, checksum]));
    expect([stream.subarray(0, plaintext.length).toString('hex'), stream.subarray(plaintext.length).toString('hex')]).toEqual([
      '54e50165bf1936dc996020c1811b0f06fb5f',
      '7fb38ec5c55d4976',
    ]);
  });

  it('ok/sign-only signature layout: version 1, sealed checksum, sequence number', () => {
    const sig = ntlmSignature(exported, flags, 'server-to-client', 5, plaintext);
    expect([sig.length, sig.readUInt32LE(0), sig.readUInt32LE(12)]).toEqual([16, 1, 5]);
  });

  it('fail/direction matters: client and server signatures differ', () => {
    const a = ntlmSignature(exported, flags, 'client-to-server', 0, plaintext);
    const b = ntlmSignature(exported, flags, 'server-to-client', 0, plaintext);
    expect(a.equals(b)).toBe(false);
  });
});
