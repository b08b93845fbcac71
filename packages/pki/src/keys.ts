import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { PkiError, guard } from './errors.ts';
import { pemDecode } from './pem.ts';
import { importEcFast } from './spki.ts';

/** The key algorithms Certbridge issues and generates (issue 2 item 7). */
export type KeyAlgorithm = 'EC-P256' | 'EC-P384' | 'RSA-2048' | 'RSA-3072' | 'RSA-4096';
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['EC-P256', 'EC-P384', 'RSA-2048', 'RSA-3072', 'RSA-4096'];

export interface PublicKeyDescription {
  algorithm: KeyAlgorithm | null;
  family: 'EC' | 'RSA' | 'Ed25519' | 'other';
  bits: number;
  curve?: string;
}

/** node:crypto curve names to the NIST names used in policies and the API. */
const CURVES: Record<string, { name: string; bits: number }> = {
  prime256v1: { name: 'P-256', bits: 256 },
  secp384r1: { name: 'P-384', bits: 384 },
  secp521r1: { name: 'P-521', bits: 521 },
};

/** Generates a key pair synchronously with node:crypto (RSA public exponent 65537). */
export function generateKeyPair(alg: KeyAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (alg) {
    case 'EC-P256':
      return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    case 'EC-P384':
      return generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    case 'RSA-2048':
    case 'RSA-3072':
    case 'RSA-4096':
      return generateKeyPairSync('rsa', { modulusLength: Number(alg.slice(4)), publicExponent: 0x10001 });
    default:
      throw new PkiError('UNSUPPORTED', `unknown key algorithm "${String(alg)}"`);
  }
}

/** Maps a node KeyObject (public or private) to its description. */
export function describeKeyObject(key: KeyObject): PublicKeyDescription {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss': {
      const bits = details.modulusLength ?? 0;
      const algorithm = key.asymmetricKeyType === 'rsa' && [2048, 3072, 4096].includes(bits)
        ? (`RSA-${bits}` as KeyAlgorithm) : null;
      return { algorithm, family: 'RSA', bits };
    }
    case 'ec': {
      const curve = CURVES[details.namedCurve ?? ''];
      const algorithm: KeyAlgorithm | null = curve?.name === 'P-256' ? 'EC-P256' : curve?.name === 'P-384' ? 'EC-P384' : null;
      return { algorithm, family: 'EC', bits: curve?.bits ?? 0, curve: curve?.name ?? details.namedCurve ?? 'unknown' };
    }
    case 'ed25519':
      return { algorithm: null, family: 'Ed25519', bits: 256 };
    default:
      return { algorithm: null, family: 'other', bits: 0 };
  }
}

/**
 * Describes a SubjectPublicKeyInfo (RFC 5280 section 4.1.2.7). `algorithm` is null for keys
 * Certbridge does not issue for (RSA-1024, P-521, Ed25519, DSA...) so policies can reject them
 * by name. Malformed SPKI throws MALFORMED; a well-formed SPKI of an algorithm node:crypto
 * does not know is described as family "other".
 */
export function describePublicKey(spkiDer: Uint8Array): PublicKeyDescription {
  try {
    return describeKeyObject(publicKeyFromSpki(spkiDer));
  } catch {
    // node:crypto rejects both junk and unknown algorithms; the ASN.1 parse tells them apart.
    const spki = guard('SubjectPublicKeyInfo', () => AsnConvert.parse(spkiDer, SubjectPublicKeyInfo));
    const family = NODE_KNOWN[spki.algorithm.algorithm];
    if (family) throw new PkiError('MALFORMED', `SubjectPublicKeyInfo: invalid ${family} public key`);
    return { algorithm: null, family: 'other', bits: 0 };
  }
}

/** Key algorithm OIDs node:crypto imports; a failed import of one of these is a broken key, not an unknown algorithm. */
const NODE_KNOWN: Record<string, string> = {
  '1.2.840.10045.2.1': 'EC', '1.2.840.113549.1.1.1': 'RSA', '1.2.840.113549.1.1.10': 'RSA-PSS', '1.3.101.112': 'Ed25519', '1.3.101.113': 'Ed448',
};

/** A public KeyObject from SubjectPublicKeyInfo DER. */
export function publicKeyFromSpki(spkiDer: Uint8Array): KeyObject {
  const fast = importEcFast(spkiDer);
  if (fast) return fast;
  return guard('SubjectPublicKeyInfo', () =>
    createPublicKey({ key: Buffer.from(spkiDer.buffer, spkiDer.byteOffset, spkiDer.byteLength), format: 'der', type: 'spki' }));
}

/** SubjectPublicKeyInfo DER of a public or private KeyObject. */
export function spkiOf(key: KeyObject): Uint8Array {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return new Uint8Array(pub.export({ format: 'der', type: 'spki' }));
}

/** PKCS#8 PrivateKeyInfo DER (RFC 5208), unencrypted: callers seal it before storage. */
export function exportPrivateKeyPkcs8Der(key: KeyObject): Uint8Array {
  if (key.type !== 'private') throw new PkiError('UNSUPPORTED', 'not a private key');
  return new Uint8Array(key.export({ format: 'der', type: 'pkcs8' }));
}

const PEM_KEY_LABELS = ['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY'];

/**
 * Imports an unencrypted private key: PKCS#8 (RFC 5208), PKCS#1 RSAPrivateKey (RFC 8017
 * appendix A.1.2) or SEC1 ECPrivateKey (RFC 5915), as PEM or DER. Encrypted keys are
 * UNSUPPORTED: CA import asks for the clear key over an authenticated channel.
 */
export function importPrivateKey(pemOrDer: string | Uint8Array): KeyObject {
  if (typeof pemOrDer === 'string') {
    // The first key block: OpenSSL output often puts certificates first.
    const label = [...pemOrDer.matchAll(/-----BEGIN ([A-Z ]+)-----/g)].map((m) => m[1] ?? '')
      .find((l) => l === 'ENCRYPTED PRIVATE KEY' || PEM_KEY_LABELS.includes(l));
    if (label === 'ENCRYPTED PRIVATE KEY') throw new PkiError('UNSUPPORTED', 'encrypted private keys are not supported');
    if (!label || !PEM_KEY_LABELS.includes(label)) {
      throw new PkiError('MALFORMED', 'no PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY PEM block');
    }
    const der = pemDecode(pemOrDer, label);
    const type = label === 'PRIVATE KEY' ? 'pkcs8' : label === 'RSA PRIVATE KEY' ? 'pkcs1' : 'sec1';
    return guard(`private key (${label})`, () => createPrivateKey({ key: Buffer.from(der), format: 'der', type }));
  }
  const buf = Buffer.from(pemOrDer.buffer, pemOrDer.byteOffset, pemOrDer.byteLength);
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      return createPrivateKey({ key: buf, format: 'der', type });
    } catch {
      // DER carries no label; the three encodings are tried in turn and only the last failure matters.
    }
  }
  throw new PkiError('MALFORMED', 'private key: not PKCS#8, PKCS#1 or SEC1 DER');
}
