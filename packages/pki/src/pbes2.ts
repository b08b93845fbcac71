import { createCipheriv, pbkdf2Sync, randomBytes } from 'node:crypto';
import { AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';

/**
 * PBES2 password-based encryption (RFC 8018 section 6.2) with PBKDF2-HMAC-SHA256 and
 * AES-256-CBC: the scheme OpenSSL 3 reads without its legacy provider. asn1-* ships no
 * PBES2 structures, so the two parameter SEQUENCEs are declared here, in the
 * PeculiarVentures style (decorators applied as functions because this package compiles
 * without `experimentalDecorators`).
 */

export const OID_PBES2 = '1.2.840.113549.1.5.13';
export const OID_PBKDF2 = '1.2.840.113549.1.5.12';
export const OID_HMAC_SHA256 = '1.2.840.113549.2.9';
export const OID_AES256_CBC = '2.16.840.1.101.3.4.1.42';
const NULL_PARAMS = new Uint8Array([0x05, 0x00]).buffer;

/**
 * ```asn1
 * PBKDF2-params ::= SEQUENCE {
 *   salt CHOICE { specified OCTET STRING, otherSource AlgorithmIdentifier },
 *   iterationCount INTEGER (1..MAX),
 *   keyLength INTEGER (1..MAX) OPTIONAL,
 *   prf AlgorithmIdentifier DEFAULT algid-hmacWithSHA1 }
 * ```
 */
export class Pbkdf2Params {
  salt = new OctetString();
  iterationCount = 0;
  keyLength?: number;
  prf?: AlgorithmIdentifier;
  constructor(params: Partial<Pbkdf2Params> = {}) { Object.assign(this, params); }
}
AsnProp({ type: OctetString })(Pbkdf2Params.prototype, 'salt');
AsnProp({ type: AsnPropTypes.Integer })(Pbkdf2Params.prototype, 'iterationCount');
AsnProp({ type: AsnPropTypes.Integer, optional: true })(Pbkdf2Params.prototype, 'keyLength');
AsnProp({ type: AlgorithmIdentifier, optional: true })(Pbkdf2Params.prototype, 'prf');
AsnType({ type: AsnTypeTypes.Sequence })(Pbkdf2Params);

/**
 * ```asn1
 * PBES2-params ::= SEQUENCE {
 *   keyDerivationFunc AlgorithmIdentifier {{PBES2-KDFs}},
 *   encryptionScheme AlgorithmIdentifier {{PBES2-Encs}} }
 * ```
 */
export class Pbes2Params {
  keyDerivationFunc = new AlgorithmIdentifier();
  encryptionScheme = new AlgorithmIdentifier();
  constructor(params: Partial<Pbes2Params> = {}) { Object.assign(this, params); }
}
AsnProp({ type: AlgorithmIdentifier })(Pbes2Params.prototype, 'keyDerivationFunc');
AsnProp({ type: AlgorithmIdentifier })(Pbes2Params.prototype, 'encryptionScheme');
AsnType({ type: AsnTypeTypes.Sequence })(Pbes2Params);

/**
 * Encrypts `plaintext` under `password` (UTF-8, as OpenSSL passes PBES2 passwords) and returns
 * the PBES2 AlgorithmIdentifier to store next to the ciphertext.
 */
export function pbes2Encrypt(plaintext: Uint8Array, password: string, iterations: number): { algorithm: AlgorithmIdentifier; ciphertext: Uint8Array } {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const params = new Pbes2Params({
    keyDerivationFunc: new AlgorithmIdentifier({
      algorithm: OID_PBKDF2,
      parameters: AsnConvert.serialize(new Pbkdf2Params({
        salt: new OctetString(salt), iterationCount: iterations,
        prf: new AlgorithmIdentifier({ algorithm: OID_HMAC_SHA256, parameters: NULL_PARAMS }),
      })),
    }),
    encryptionScheme: new AlgorithmIdentifier({ algorithm: OID_AES256_CBC, parameters: AsnConvert.serialize(new OctetString(iv)) }),
  });
  return {
    algorithm: new AlgorithmIdentifier({ algorithm: OID_PBES2, parameters: AsnConvert.serialize(params) }),
    ciphertext: new Uint8Array(ciphertext),
  };
}
