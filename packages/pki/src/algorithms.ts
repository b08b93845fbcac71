import { sign, verify, constants, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { RsaSaPssParams, id_mgf1 } from '@peculiar/asn1-rsa';
import { PkiError, guard } from './errors.ts';
import { describeKeyObject } from './keys.ts';

/**
 * Signature algorithms (RFC 5280 section 4.1.1.2; OIDs from RFC 3279, RFC 4055, RFC 5758,
 * RFC 8410). Signing and verifying go through node:crypto's synchronous `sign`/`verify` with
 * KeyObjects: WebCrypto (what @peculiar/x509 uses) is promise-based and costs an extra
 * async hop plus key import per operation, which caps issuance well below the 5,000 certs/s
 * target of issue 2. node:crypto's ECDSA output is DER, which is what X.509 carries.
 */

const RSA_NULL = new Uint8Array([0x05, 0x00]).buffer;

/** Signature OID -> node hash name and key family; `null` hash means the algorithm hashes itself (EdDSA). */
const VERIFY_TABLE: Record<string, { hash: string | null; family: 'RSA' | 'EC' | 'Ed25519' | 'Ed448' }> = {
  '1.2.840.113549.1.1.5': { hash: 'sha1', family: 'RSA' },
  '1.2.840.113549.1.1.14': { hash: 'sha224', family: 'RSA' },
  '1.2.840.113549.1.1.11': { hash: 'sha256', family: 'RSA' },
  '1.2.840.113549.1.1.12': { hash: 'sha384', family: 'RSA' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', family: 'RSA' },
  '1.2.840.10045.4.1': { hash: 'sha1', family: 'EC' },
  '1.2.840.10045.4.3.1': { hash: 'sha224', family: 'EC' },
  '1.2.840.10045.4.3.2': { hash: 'sha256', family: 'EC' },
  '1.2.840.10045.4.3.3': { hash: 'sha384', family: 'EC' },
  '1.2.840.10045.4.3.4': { hash: 'sha512', family: 'EC' },
  '1.3.101.112': { hash: null, family: 'Ed25519' },
  '1.3.101.113': { hash: null, family: 'Ed448' },
};
const OID_RSASSA_PSS = '1.2.840.113549.1.1.10';
const HASH_OIDS: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1', '2.16.840.1.101.3.4.2.4': 'sha224', '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512',
};

export interface SignatureScheme { algorithm: AlgorithmIdentifier; algorithmDer: Uint8Array; hash: string | null }

/** Schemes per signing key: describing a KeyObject and encoding the AlgorithmIdentifier once, not per certificate. */
const schemes = new WeakMap<KeyObject, SignatureScheme>();

/**
 * The signature algorithm a CA key signs with: ECDSA with the curve-matched hash (P-256 ->
 * SHA-256, P-384 -> SHA-384, P-521 -> SHA-512, RFC 5480 section 4), sha256WithRSAEncryption
 * (parameters NULL, RFC 4055 section 5), Ed25519 (RFC 8410, no parameters).
 */
export function signatureSchemeFor(key: KeyObject): SignatureScheme {
  let scheme = schemes.get(key);
  if (!scheme) {
    const { algorithm, hash } = chooseScheme(key);
    scheme = { algorithm, hash, algorithmDer: new Uint8Array(AsnConvert.serialize(algorithm)) };
    schemes.set(key, scheme);
  }
  return scheme;
}

function chooseScheme(key: KeyObject): { algorithm: AlgorithmIdentifier; hash: string | null } {
  const d = describeKeyObject(key);
  if (d.family === 'RSA' && key.asymmetricKeyType === 'rsa') {
    return { algorithm: new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.11', parameters: RSA_NULL }), hash: 'sha256' };
  }
  if (d.family === 'EC') {
    const byCurve: Record<string, [string, string]> = {
      'P-256': ['1.2.840.10045.4.3.2', 'sha256'], 'P-384': ['1.2.840.10045.4.3.3', 'sha384'], 'P-521': ['1.2.840.10045.4.3.4', 'sha512'],
    };
    const pick = byCurve[d.curve ?? ''];
    if (pick) return { algorithm: new AlgorithmIdentifier({ algorithm: pick[0] }), hash: pick[1] };
  }
  if (d.family === 'Ed25519') return { algorithm: new AlgorithmIdentifier({ algorithm: '1.3.101.112' }), hash: null };
  throw new PkiError('UNSUPPORTED', `cannot sign with a ${d.family} ${d.curve ?? d.bits} key`);
}

/** Signs `data` synchronously; returns the signature bytes (DER ECDSA-Sig-Value for EC). */
export function signBytes(scheme: SignatureScheme, key: KeyObject, data: Uint8Array): Uint8Array {
  return new Uint8Array(sign(scheme.hash, data, key));
}

/** Verifies `signature` over `data` for the AlgorithmIdentifier found in the structure. UNSUPPORTED for unknown algorithms. */
export function verifyBytes(alg: AlgorithmIdentifier, key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  if (alg.algorithm === OID_RSASSA_PSS) return verifyPss(alg, key, data, signature);
  const entry = VERIFY_TABLE[alg.algorithm];
  if (!entry) throw new PkiError('UNSUPPORTED', `signature algorithm ${alg.algorithm} is not supported`);
  const keyFamily = key.asymmetricKeyType === 'rsa' ? 'RSA' : key.asymmetricKeyType === 'ec' ? 'EC'
    : key.asymmetricKeyType === 'ed25519' ? 'Ed25519' : key.asymmetricKeyType === 'ed448' ? 'Ed448' : 'other';
  // A mismatch (RSA signature OID with an EC key) is a bad signature, not a crash in node:crypto.
  if (keyFamily !== entry.family) return false;
  try {
    return verify(entry.hash, data, key, signature);
  } catch {
    // node:crypto throws on signatures that are not even well-formed (bad DER ECDSA); that is a failed verification.
    return false;
  }
}

function verifyPss(alg: AlgorithmIdentifier, key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  if (!alg.parameters) throw new PkiError('MALFORMED', 'RSASSA-PSS without parameters');
  const params = guard('RSASSA-PSS parameters', () => AsnConvert.parse(alg.parameters as ArrayBuffer, RsaSaPssParams));
  const hash = HASH_OIDS[params.hashAlgorithm.algorithm];
  if (!hash || params.maskGenAlgorithm.algorithm !== id_mgf1) {
    throw new PkiError('UNSUPPORTED', 'RSASSA-PSS with an unsupported hash or mask generation function');
  }
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') return false;
  try {
    return verify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: params.saltLength }, signature);
  } catch {
    return false;
  }
}
