import { createCipheriv, createHash, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { AppError } from '../../errors.ts';
import { algorithm, context, integer, octets, oid, seq, tlv } from './der-writer.ts';

/**
 * CMS KeyAgreeRecipientInfo for EC recipients (RFC 5753 section 3.1.1, ephemeral-static ECDH):
 * a SCEP client whose signer certificate holds an EC key cannot receive an RSA key-transport
 * envelope, so the CertRep's pkcsPKIEnvelope wraps the content key with a key derived from
 * ECDH between a fresh ephemeral key and the client's key (ANSI X9.63 KDF, AES key wrap).
 */

const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  /** dhSinglePass-stdDH-sha256kdf-scheme (RFC 5753 section 7.1.4). */
  stdDhSha256: '1.3.132.1.11.1',
  stdDhSha384: '1.3.132.1.11.2',
};

/** AES key wrap (RFC 3394) per content-key length, with the CMS OID naming it. */
const KEY_WRAP: Record<number, { oid: string; cipher: string }> = {
  16: { oid: '2.16.840.1.101.3.4.1.5', cipher: 'id-aes128-wrap' },
  24: { oid: '2.16.840.1.101.3.4.1.25', cipher: 'id-aes192-wrap' },
  32: { oid: '2.16.840.1.101.3.4.1.45', cipher: 'id-aes256-wrap' },
};
const WRAP_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

/** ANSI X9.63 KDF: Hash(Z || counter || ECC-CMS-SharedInfo) until `length` bytes (RFC 5753 section 7.2). */
function x963Kdf(hash: string, z: Buffer, sharedInfo: Uint8Array, length: number): Buffer {
  const out: Buffer[] = [];
  for (let counter = 1, have = 0; have < length; counter++) {
    const block = createHash(hash).update(z).update(Uint8Array.of(counter >>> 24, (counter >>> 16) & 0xff, (counter >>> 8) & 0xff, counter & 0xff)).update(sharedInfo).digest();
    out.push(block);
    have += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** The curve of an EC public key, as node:crypto names it for key generation. */
function curveOf(publicKey: KeyObject): string {
  const curve = publicKey.asymmetricKeyDetails?.namedCurve;
  if (!curve) throw new AppError('BAD_REQUEST', 'the requester certificate has an EC key on an unnamed curve', { failInfo: 'badAlg' });
  return curve;
}

/**
 * The `[1] kari` RecipientInfo carrying `contentKey` for `recipientPublicKey`, identified by the
 * recipient certificate's IssuerAndSerialNumber (`rid`, DER). SHA-384 KDF for P-384 and up.
 */
export function keyAgreeRecipientInfo(contentKey: Buffer, recipientPublicKey: KeyObject, rid: Uint8Array): Uint8Array {
  const wrap = KEY_WRAP[contentKey.length];
  if (!wrap) throw new AppError('BAD_REQUEST', `no AES key wrap for a ${contentKey.length}-byte content key`, { failInfo: 'badAlg' });
  const curve = curveOf(recipientPublicKey);
  const [scheme, hash] = curve === 'prime256v1' ? [OID.stdDhSha256, 'sha256'] : [OID.stdDhSha384, 'sha384'];
  const ephemeral = generateKeyPairSync('ec', { namedCurve: curve });
  const z = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipientPublicKey });
  const keyInfo = algorithm(wrap.oid);
  const sharedInfo = seq(keyInfo, context(2, octets(Uint8Array.of(0, 0, (contentKey.length * 8) >>> 8, (contentKey.length * 8) & 0xff))));
  const kek = x963Kdf(hash, z, sharedInfo, contentKey.length);
  const wrapper = createCipheriv(wrap.cipher, kek, WRAP_IV);
  const encryptedKey = Buffer.concat([wrapper.update(contentKey), wrapper.final()]);
  // OriginatorPublicKey: the ephemeral point; the curve is the recipient's (RFC 5753 section 3.1.1).
  const spki = ephemeral.publicKey.export({ type: 'spki', format: 'der' });
  const point = spki.subarray(spki.length - pointLength(curve)); // the SPKI ends with the uncompressed point
  const originator = context(0, tlv(0xa1, algorithm(OID.ecPublicKey), tlv(0x03, Uint8Array.of(0), point)));
  const recipientEncryptedKey = seq(rid, octets(encryptedKey));
  return tlv(0xa1, integer(3), originator, algorithm(scheme, keyInfo), seq(recipientEncryptedKey));
}

/** Length of an uncompressed EC point (0x04 || X || Y) on the named curve. */
function pointLength(curve: string): number {
  const bytes: Record<string, number> = { prime256v1: 32, secp384r1: 48, secp521r1: 66 };
  const n = bytes[curve];
  if (!n) throw new AppError('BAD_REQUEST', `curve ${curve} is not supported for the answer envelope (P-256, P-384, P-521 are)`, { failInfo: 'badAlg' });
  return 1 + 2 * n;
}
