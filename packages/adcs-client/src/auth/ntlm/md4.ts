/**
 * MD4 (RFC 1320), needed only for the NT one-way function NTOWFv2 ([MS-NLMP] 3.3.2:
 * `HMAC_MD5(MD4(UNICODE(password)), …)`).
 *
 * Implemented here because Node 20 on OpenSSL 3 throws `ERR_OSSL_EVP_UNSUPPORTED` for
 * `createHash('md4')`: MD4 lives in OpenSSL's legacy provider, which is off by default and which
 * we must not require operators to enable. MD4 is broken as a hash; it is used here only because
 * the NTLM protocol fixes it.
 */

const S = [3, 7, 11, 19, 3, 5, 9, 13, 3, 9, 11, 15] as const;
const R2_ORDER = [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15] as const;
const R3_ORDER = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15] as const;

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

/** RFC 1320 3.1-3.2: append 0x80, zero-pad to 56 mod 64, then the bit length (64-bit LE). */
function pad(message: Uint8Array): Uint8Array {
  const bitLength = BigInt(message.length) * 8n;
  const total = Math.ceil((message.length + 9) / 64) * 64;
  const out = new Uint8Array(total);
  out.set(message);
  out[message.length] = 0x80;
  new DataView(out.buffer).setBigUint64(total - 8, bitLength, true);
  return out;
}

/** Returns the 16-byte MD4 digest of `message`. */
export function md4(message: Uint8Array): Buffer {
  const data = pad(message);
  const view = new DataView(data.buffer);
  let a = 0x67452301, b = 0xefcdab89, c = 0x98badcfe, d = 0x10325476;
  const x = new Array<number>(16);
  for (let block = 0; block < data.length; block += 64) {
    for (let i = 0; i < 16; i++) x[i] = view.getUint32(block + i * 4, true);
    const [aa, bb, cc, dd] = [a, b, c, d];
    const xi = (i: number): number => x[i] ?? 0;
    // Round 1: F(X,Y,Z) = XY v not(X) Z
    for (let i = 0; i < 16; i++) {
      const f = (b & c) | (~b & d);
      const t = rotl((a + f + xi(i)) | 0, S[i % 4] ?? 0);
      [a, b, c, d] = [d, t, b, c];
    }
    // Round 2: G(X,Y,Z) = XY v XZ v YZ, constant sqrt(2)
    for (let i = 0; i < 16; i++) {
      const g = (b & c) | (b & d) | (c & d);
      const t = rotl((a + g + xi(R2_ORDER[i] ?? 0) + 0x5a827999) | 0, S[4 + (i % 4)] ?? 0);
      [a, b, c, d] = [d, t, b, c];
    }
    // Round 3: H(X,Y,Z) = X xor Y xor Z, constant sqrt(3)
    for (let i = 0; i < 16; i++) {
      const h = b ^ c ^ d;
      const t = rotl((a + h + xi(R3_ORDER[i] ?? 0) + 0x6ed9eba1) | 0, S[8 + (i % 4)] ?? 0);
      [a, b, c, d] = [d, t, b, c];
    }
    a = (a + aa) | 0; b = (b + bb) | 0; c = (c + cc) | 0; d = (d + dd) | 0;
  }
  const out = Buffer.alloc(16);
  out.writeInt32LE(a, 0); out.writeInt32LE(b, 4); out.writeInt32LE(c, 8); out.writeInt32LE(d, 12);
  return out;
}
