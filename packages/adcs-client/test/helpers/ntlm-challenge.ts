/** Builds a CHALLENGE_MESSAGE the way a server lays it out ([MS-NLMP] 2.2.1.2), for tests. */
import { AvId, encodeAvPairs } from '../../src/auth/ntlm/av-pairs.ts';
import { CLIENT_FLAGS, NTLMSSP } from '../../src/auth/ntlm/messages.ts';

export function challengeMessage(opts: { flags?: number; targetInfo?: Buffer; serverChallenge?: Buffer } = {}): Buffer {
  const targetName = Buffer.from('CORP', 'utf16le');
  const info = opts.targetInfo ?? encodeAvPairs([
    { id: AvId.MsvAvNbDomainName, value: Buffer.from('CORP', 'utf16le') },
    { id: AvId.MsvAvNbComputerName, value: Buffer.from('CA1', 'utf16le') },
    { id: AvId.MsvAvTimestamp, value: Buffer.from('0080d3f2c1d5d901', 'hex') },
  ]);
  const head = Buffer.alloc(56);
  head.write('NTLMSSP\0', 0, 'latin1');
  head.writeUInt32LE(2, 8);
  head.writeUInt16LE(targetName.length, 12); head.writeUInt16LE(targetName.length, 14); head.writeUInt32LE(56, 16);
  head.writeUInt32LE((opts.flags ?? (CLIENT_FLAGS | NTLMSSP.NEGOTIATE_TARGET_INFO)) >>> 0, 20);
  (opts.serverChallenge ?? Buffer.from('0123456789abcdef', 'hex')).copy(head, 24);
  head.writeUInt16LE(info.length, 40); head.writeUInt16LE(info.length, 42); head.writeUInt32LE(56 + targetName.length, 44);
  return Buffer.concat([head, targetName, info]);
}
