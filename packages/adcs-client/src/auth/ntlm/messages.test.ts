import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AvId, parseAvPairs, MSV_AV_FLAG_MIC_PRESENT } from './av-pairs.ts';
import { challengeMessage } from '../../../test/helpers/ntlm-challenge.ts';
import { NtlmContext, splitUser } from './context.ts';
import { MIC_OFFSET, NTLMSSP, decodeChallenge, encodeNegotiate } from './messages.ts';
import { computeMic, hmacMd5, ntowfv2 } from './ntlmv2.ts';

const challenge = challengeMessage;

function thrown(fn: () => unknown): string {
  try { fn(); } catch (e) { return (e as Error).message; }
  return 'no error';
}

describe('NEGOTIATE_MESSAGE', () => {
  it('ok/40-bytes-with-version-flag', () => {
    const msg = encodeNegotiate();
    expect({ length: msg.length, version: (msg.readUInt32LE(12) & NTLMSSP.NEGOTIATE_VERSION) !== 0, rev: msg[39] }).toEqual({ length: 40, version: true, rev: 15 });
  });
});

describe('CHALLENGE_MESSAGE', () => {
  it('ok/fields', () => {
    const c = decodeChallenge(challenge());
    expect({ name: c.targetName, challenge: c.serverChallenge.toString('hex'), pairs: parseAvPairs(c.targetInfo).map((p) => p.id) })
      .toEqual({ name: 'CORP', challenge: '0123456789abcdef', pairs: [2, 1, 7] });
  });
  it.each([
    ['fail/truncated', () => challenge().subarray(0, 20), 'CHALLENGE_MESSAGE too short (20 bytes)'],
    ['fail/bad-signature', () => Buffer.concat([Buffer.from('NTLMSSX\0'), challenge().subarray(8)]), 'CHALLENGE_MESSAGE lacks the NTLMSSP signature'],
    ['fail/wrong-type', () => { const c = challenge(); c.writeUInt32LE(3, 8); return c; }, 'expected NTLM message type 2, got 3'],
    ['fail/target-info-past-end', () => challenge().subarray(0, 70), 'TargetInfo (offset 64, length 38) runs past the message end'],
    ['fail/random-bytes', () => randomBytes(64), 'CHALLENGE_MESSAGE lacks the NTLMSSP signature'],
  ])('%s', (_name, bytes, message) => {
    expect(thrown(() => decodeChallenge(bytes()))).toBe(message);
  });
  it.each([
    ['fail/av-pairs-not-terminated', '020004004100420001', 'TargetInfo is not terminated by MsvAvEOL'],
    ['fail/av-pair-length-past-end', '0200ff0041004200', 'AV_PAIR 2 runs past the end of TargetInfo'],
  ])('%s', (_name, hex, message) => {
    const ctx = new NtlmContext({ username: 'alice', password: 'p', domain: 'CORP' });
    ctx.negotiate();
    expect(thrown(() => ctx.authenticate(challenge({ targetInfo: Buffer.from(hex, 'hex') })))).toBe(message);
  });
});

describe('AUTHENTICATE_MESSAGE', () => {
  const bindings = Buffer.alloc(16, 0x5a);
  const ctx = new NtlmContext({ username: 'alice', password: 'Passw0rd!', domain: 'CORP' }, { randomBytes: (n) => Buffer.alloc(n, 0xaa) });
  const negotiate = ctx.negotiate();
  const chal = challenge();
  const msg = ctx.authenticate(chal, { channelBindings: bindings, targetName: 'HTTP/ca.corp.example' });
  const ntLen = msg.readUInt16LE(20);
  const ntOff = msg.readUInt32LE(24);
  const nt = msg.subarray(ntOff, ntOff + ntLen);
  const blobPairs = parseAvPairs(nt.subarray(16 + 28));

  it('ok/payload-after-version-and-mic', () => {
    expect(Math.min(...[12, 20, 28, 36, 44, 52].map((at) => msg.readUInt32LE(at + 4)))).toBe(88);
  });
  it('ok/lm-response-is-z24-when-timestamp-present', () => {
    expect(msg.subarray(msg.readUInt32LE(16), msg.readUInt32LE(16) + msg.readUInt16LE(12)).toString('hex')).toBe('00'.repeat(24));
  });
  it('ok/blob-uses-server-timestamp', () => {
    expect(nt.subarray(24, 32).toString('hex')).toBe('0080d3f2c1d5d901');
  });
  it('ok/channel-bindings-and-target-name-in-blob', () => {
    expect({ cb: blobPairs.find((p) => p.id === AvId.MsvAvChannelBindings)?.value.toString('hex'), spn: blobPairs.find((p) => p.id === AvId.MsvAvTargetName)?.value.toString('utf16le') })
      .toEqual({ cb: bindings.toString('hex'), spn: 'HTTP/ca.corp.example' });
  });
  it('ok/msvavflags-mic-present', () => {
    expect(blobPairs.find((p) => p.id === AvId.MsvAvFlags)?.value.readUInt32LE(0)).toBe(MSV_AV_FLAG_MIC_PRESENT);
  });
  it('ok/mic-verifies-with-session-key', () => {
    const key = hmacMd5(ntowfv2('Passw0rd!', 'alice', 'CORP'), nt.subarray(0, 16));
    const zeroed = Buffer.from(msg);
    zeroed.fill(0, MIC_OFFSET, MIC_OFFSET + 16);
    expect(msg.subarray(MIC_OFFSET, MIC_OFFSET + 16).toString('hex')).toBe(computeMic(key, negotiate, chal, zeroed).toString('hex'));
  });
  it('fail/oem-only-server-refused', () => {
    const c = new NtlmContext({ username: 'a', password: 'b' });
    c.negotiate();
    expect(thrown(() => c.authenticate(challenge({ flags: NTLMSSP.NEGOTIATE_NTLM })))).toBe('server did not accept Unicode NTLM (OEM-only servers are not supported)');
  });
});

describe('user names', () => {
  it.each([
    ['ok/plain-with-domain', { username: 'alice', password: '', domain: 'CORP' }, { user: 'alice', domain: 'CORP' }],
    ['ok/down-level-logon-name', { username: 'CORP\\alice', password: '' }, { user: 'alice', domain: 'CORP' }],
    ['ok/upn-has-empty-domain', { username: 'alice@corp.example', password: '' }, { user: 'alice@corp.example', domain: '' }],
  ])('%s', (_name, creds, expected) => {
    expect(splitUser(creds)).toEqual(expected);
  });
});
