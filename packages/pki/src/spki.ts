import { createPublicKey, type KeyObject } from 'node:crypto';
import * as der from './der.ts';
import type { KeyAlgorithm, PublicKeyDescription } from './keys.ts';

/**
 * Fast SubjectPublicKeyInfo handling for the issuance path (RFC 5480 for EC, RFC 8017 for RSA,
 * RFC 8410 for Ed25519). node:crypto's DER key import goes through OpenSSL 3's decoder
 * framework, about twice the cost of importing the same EC point as a JWK, so EC keys with
 * uncompressed points are imported that way; the JWK import still checks the point is on the
 * curve. Anything unusual returns undefined and the caller uses the general path.
 */

const OID_EC = '1.2.840.10045.2.1';
const OID_RSA = '1.2.840.113549.1.1.1';
const OID_ED25519 = '1.3.101.112';
const CURVES: Record<string, { crv: 'P-256' | 'P-384' | 'P-521'; bytes: number; alg: KeyAlgorithm | null }> = {
  '1.2.840.10045.3.1.7': { crv: 'P-256', bytes: 32, alg: 'EC-P256' },
  '1.3.132.0.34': { crv: 'P-384', bytes: 48, alg: 'EC-P384' },
  '1.3.132.0.35': { crv: 'P-521', bytes: 66, alg: null },
};

interface SpkiParts { algOid: string; param?: der.Tlv; key: Uint8Array }

function split(spki: Uint8Array): SpkiParts {
  const outer = der.readTlv(spki, 0);
  if (outer.end !== spki.length) throw new der.DerError('trailing data after SubjectPublicKeyInfo');
  const [alg, bits, extra] = der.children(spki, der.expect(outer, 0x30));
  if (extra) throw new der.DerError('extra SubjectPublicKeyInfo field');
  const [algOid, param, more] = der.children(spki, der.expect(alg, 0x30));
  if (more) throw new der.DerError('extra AlgorithmIdentifier field');
  const key = der.bytes(spki, der.expect(bits, 0x03));
  if (key[0] !== 0) throw new der.DerError('unused bits in key');
  return { algOid: der.decodeOid(spki, algOid as der.Tlv), param: param, key: key.subarray(1) };
}

/** Describes the key from its encoding alone (no point validation); undefined when the general path must decide. */
export function describeSpkiFast(spki: Uint8Array): PublicKeyDescription | undefined {
  try {
    const p = split(spki);
    if (p.algOid === OID_EC && p.param?.tag === 0x06) {
      const curve = CURVES[der.decodeOid(spki, p.param)];
      if (!curve || p.key.length !== 1 + 2 * curve.bytes || p.key[0] !== 0x04) return undefined;
      return { algorithm: curve.alg, family: 'EC', bits: curve.crv === 'P-521' ? 521 : curve.bytes * 8, curve: curve.crv };
    }
    if (p.algOid === OID_RSA && p.param?.tag === 0x05) {
      const rsa = der.readTlv(p.key, 0);
      const [n] = der.children(p.key, der.expect(rsa, 0x30));
      const mod = der.bytes(p.key, der.expect(n, 0x02));
      let i = 0;
      while (i < mod.length && mod[i] === 0) i++;
      if (i === mod.length) return undefined;
      const bits = (mod.length - i - 1) * 8 + (32 - Math.clz32(mod[i] as number));
      return { algorithm: [2048, 3072, 4096].includes(bits) ? (`RSA-${bits}` as KeyAlgorithm) : null, family: 'RSA', bits };
    }
    if (p.algOid === OID_ED25519 && p.param === undefined && p.key.length === 32) return { algorithm: null, family: 'Ed25519', bits: 256 };
    return undefined;
  } catch {
    // Not understood here: the general (validating) path decides and reports.
    return undefined;
  }
}

/** An EC public key imported via JWK when the SPKI is a named curve with an uncompressed point; undefined otherwise. */
export function importEcFast(spki: Uint8Array): KeyObject | undefined {
  try {
    const p = split(spki);
    if (p.algOid !== OID_EC || p.param?.tag !== 0x06) return undefined;
    const curve = CURVES[der.decodeOid(spki, p.param)];
    if (!curve || p.key.length !== 1 + 2 * curve.bytes || p.key[0] !== 0x04) return undefined;
    const b = Buffer.from(p.key.buffer, p.key.byteOffset, p.key.byteLength);
    return createPublicKey({
      key: { kty: 'EC', crv: curve.crv, x: b.subarray(1, 1 + curve.bytes).toString('base64url'), y: b.subarray(1 + curve.bytes).toString('base64url') },
      format: 'jwk',
    });
  } catch {
    // An invalid point or odd encoding: the DER import reports it with OpenSSL's reason.
    return undefined;
  }
}
