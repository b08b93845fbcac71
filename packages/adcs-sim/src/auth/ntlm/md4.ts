/**
 * MD4 (RFC 1320) in plain TypeScript.
 *
 * NTLM's NT hash is MD4(UTF-16LE(password)) ([MS-NLMP] 3.3.1 NTOWFv1). Node 20 ships OpenSSL 3,
 * whose default provider no longer offers MD4 (`createHash('md4')` throws
 * ERR_OSSL_EVP_UNSUPPORTED unless the legacy provider is loaded process-wide), so the emulator
 * carries its own implementation instead of depending on how OpenSSL was configured.
 */

const S1 = [3, 7, 11, 19];
const S2 = [3, 5, 9, 13];
const S3 = [3, 9, 11, 15];
const R3 = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15];

function rotl(x: number, n: number): number {
  return ((x << n) | (x >>> (32 - n))) >>> 0;
}

/** Pads per RFC 1320 3.1–3.2: 0x80, zeros to 56 mod 64, then the bit length (64-bit LE). */
function pad(input: Uint8Array): Uint8Array {
  const bitLen = input.length * 8;
  const total = Math.ceil((input.length + 9) / 64) * 64;
  const out = new Uint8Array(total);
  out.set(input);
  out[input.length] = 0x80;
  const view = new DataView(out.buffer);
  view.setUint32(total - 8, bitLen >>> 0, true);
  view.setUint32(total - 4, Math.floor(bitLen / 0x100000000), true);
  return out;
}

/** Computes the 16-byte MD4 digest of `input`. */
export function md4(input: Uint8Array): Buffer {
  const msg = pad(input);
  const view = new DataView(msg.buffer);
  let a = 0x67452301;
  let b = 0xefcdab89;
  let c = 0x98badcfe;
  let d = 0x10325476;
  const x = new Array<number>(16);
  for (let off = 0; off < msg.length; off += 64) {
    for (let i = 0; i < 16; i++) x[i] = view.getUint32(off + i * 4, true);
    const [aa, bb, cc, dd] = [a, b, c, d];
    // Round 1: F(x,y,z) = xy v not(x) z
    for (let i = 0; i < 16; i++) {
      const f = (b & c) | (~b & d);
      const t = rotl((a + f + x[i]) >>> 0, S1[i % 4]);
      [a, b, c, d] = [d, t, b, c];
    }
    // Round 2: G(x,y,z) = xy v xz v yz, constant 0x5A827999, column order
    for (let i = 0; i < 16; i++) {
      const k = (i % 4) * 4 + Math.floor(i / 4);
      const g = (b & c) | (b & d) | (c & d);
      const t = rotl((a + g + x[k] + 0x5a827999) >>> 0, S2[i % 4]);
      [a, b, c, d] = [d, t, b, c];
    }
    // Round 3: H(x,y,z) = x xor y xor z, constant 0x6ED9EBA1, bit-reversed order
    for (let i = 0; i < 16; i++) {
      const h = b ^ c ^ d;
      const t = rotl((a + h + x[R3[i]] + 0x6ed9eba1) >>> 0, S3[i % 4]);
      [a, b, c, d] = [d, t, b, c];
    }
    a = (a + aa) >>> 0;
    b = (b + bb) >>> 0;
    c = (c + cc) >>> 0;
    d = (d + dd) >>> 0;
  }
  const out = Buffer.alloc(16);
  out.writeUInt32LE(a, 0);
  out.writeUInt32LE(b, 4);
  out.writeUInt32LE(c, 8);
  out.writeUInt32LE(d, 12);
  return out;
}
