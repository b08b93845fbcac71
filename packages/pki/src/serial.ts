import { randomFillSync } from 'node:crypto';
import { PkiError } from './errors.ts';

/**
 * Certificate serial numbers (RFC 5280 section 4.1.2.2): positive INTEGERs of at most 20
 * octets. Certbridge shows them as lowercase hex of the magnitude, even length, which is
 * what `openssl x509 -serial` prints (lowercased).
 */

const pool = new Uint8Array(4096);
let poolAt = pool.length;

/** 16 random bytes, top bit clear and second bit set: positive, exactly 16 octets, 126 bits of entropy (CA/B BR 7.1 asks >= 64). */
export function randomSerial(): Uint8Array {
  if (poolAt + 16 > pool.length) { randomFillSync(pool); poolAt = 0; }
  // One CSPRNG call per 256 serials: randomBytes per certificate showed in issuance profiles.
  const b = pool.slice(poolAt, poolAt + 16);
  poolAt += 16;
  b[0] = ((b[0] ?? 0) & 0x7f) | 0x40;
  return b;
}

/** DER INTEGER content for a positive serial given as big-endian magnitude; adds 0x00 when the high bit is set. */
export function serialToInteger(serial: Uint8Array): Uint8Array {
  let i = 0;
  while (i < serial.length && serial[i] === 0) i++;
  const mag = serial.subarray(i);
  if (mag.length === 0) throw new PkiError('MALFORMED', 'serial number must be positive (RFC 5280 section 4.1.2.2)');
  const out = ((mag[0] ?? 0) & 0x80) !== 0 ? Uint8Array.of(0, ...mag) : mag.slice();
  if (out.length > 20) throw new PkiError('MALFORMED', 'serial number longer than 20 octets (RFC 5280 section 4.1.2.2)');
  return out;
}

/** Lowercase hex of an INTEGER's content octets without the sign-padding zero byte(s). */
export function integerToSerialHex(content: ArrayBuffer | Uint8Array): string {
  const bytes = content instanceof Uint8Array ? content : new Uint8Array(content);
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return Buffer.from(bytes.subarray(i)).toString('hex');
}

/** Parses a serial in hex (any case, optional colons or "0x") to magnitude bytes. */
export function serialHexToBytes(hex: string): Uint8Array {
  const clean = hex.trim().replace(/^0x/i, '').replace(/:/g, '');
  if (!/^[0-9a-fA-F]+$/.test(clean)) throw new PkiError('MALFORMED', `serial "${hex}" is not hex`);
  return new Uint8Array(Buffer.from(clean.length % 2 ? `0${clean}` : clean, 'hex'));
}
