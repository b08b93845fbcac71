/**
 * NTLM message signatures with extended session security ([MS-NLMP] 3.4.4.2, keys 3.4.5.2/3.4.5.3),
 * which SPNEGO uses for mechListMIC ([MS-SPNG] 3.1.5.1): each side signs the DER of mechTypes
 * with its own signing key and sequence number 0, the checksum sealed with RC4 under KEY_EXCH.
 */
import { createHash, createHmac } from 'node:crypto';
import { rc4 } from './ntlmv2.ts';
import { Flags } from './messages.ts';

export type Direction = 'client-to-server' | 'server-to-client';

function md5(...parts: Buffer[]): Buffer {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

function magic(kind: 'signing' | 'sealing', dir: Direction): Buffer {
  return Buffer.from(`session key to ${dir} ${kind} key magic constant\0`, 'latin1');
}

/** SIGNKEY (3.4.5.2). */
export function signKey(exported: Buffer, dir: Direction): Buffer {
  return md5(exported, magic('signing', dir));
}

/** SEALKEY: 128-bit with NTLMSSP_NEGOTIATE_128, else 56-bit, else 40-bit (3.4.5.3). */
export function sealKey(exported: Buffer, flags: number, dir: Direction): Buffer {
  const len = flags & Flags.N128 ? 16 : flags & Flags.N56 ? 7 : 5;
  return md5(exported.subarray(0, len), magic('sealing', dir));
}

/** The 16-byte NTLMSSP_MESSAGE_SIGNATURE over `message` with sequence number `seq`. */
export function ntlmSignature(exported: Buffer, flags: number, dir: Direction, seq: number, message: Buffer): Buffer {
  const seqBuf = Buffer.alloc(4);
  seqBuf.writeUInt32LE(seq >>> 0, 0);
  let checksum: Buffer = createHmac('md5', signKey(exported, dir)).update(seqBuf).update(message).digest().subarray(0, 8);
  if (flags & Flags.KEY_EXCH) checksum = rc4(sealKey(exported, flags, dir), checksum);
  return Buffer.concat([Buffer.from([1, 0, 0, 0]), checksum, seqBuf]);
}
