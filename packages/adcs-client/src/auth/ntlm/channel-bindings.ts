/**
 * Channel binding token for Extended Protection for Authentication (EPA).
 *
 * The application data is `tls-server-end-point:` ++ hash(server certificate DER) (RFC 5929 4.1):
 * the hash is the certificate's signature hash, except that MD5 and SHA-1 are replaced by
 * SHA-256. NTLM carries MD5(gss_channel_bindings_struct) in MsvAvChannelBindings ([MS-NLMP]
 * 2.2.2.1, 3.1.5.1.2); the struct is serialised as Windows does (RFC 2744 3.11 field order,
 * 32-bit LE lengths): initiator addrtype + address, acceptor addrtype + address (all empty),
 * then the application data.
 */
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { RsaSaPssParams } from '@peculiar/asn1-rsa';
import { md5 } from './ntlmv2.ts';

/** Signature algorithm OID → hash name; anything not listed (incl. MD5/SHA-1) hashes with SHA-256. */
const HASH_BY_SIGNATURE_OID: Record<string, string> = {
  '1.2.840.113549.1.1.12': 'sha384', // sha384WithRSAEncryption
  '1.2.840.113549.1.1.13': 'sha512', // sha512WithRSAEncryption
  '1.2.840.10045.4.3.3': 'sha384', // ecdsa-with-SHA384
  '1.2.840.10045.4.3.4': 'sha512', // ecdsa-with-SHA512
};
const RSASSA_PSS = '1.2.840.113549.1.1.10';
const HASH_BY_DIGEST_OID: Record<string, string> = {
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** The RFC 5929 hash name for a certificate. */
export function endPointHashName(certificateDer: Uint8Array): string {
  const cert = AsnConvert.parse(certificateDer, Certificate);
  const oid = cert.signatureAlgorithm.algorithm;
  if (oid === RSASSA_PSS && cert.signatureAlgorithm.parameters) {
    const params = AsnConvert.parse(cert.signatureAlgorithm.parameters, RsaSaPssParams);
    return HASH_BY_DIGEST_OID[params.hashAlgorithm.algorithm] ?? 'sha256';
  }
  return HASH_BY_SIGNATURE_OID[oid] ?? 'sha256';
}

/** `tls-server-end-point:` ++ hash(cert): the channel binding application data. */
export function tlsServerEndPoint(certificateDer: Uint8Array): Buffer {
  const digest = createHash(endPointHashName(certificateDer)).update(certificateDer).digest();
  return Buffer.concat([Buffer.from('tls-server-end-point:', 'ascii'), digest]);
}

/** gss_channel_bindings_struct with empty addresses and the given application data. */
export function gssChannelBindingsStruct(applicationData: Buffer): Buffer {
  const head = Buffer.alloc(20);
  head.writeUInt32LE(applicationData.length, 16);
  return Buffer.concat([head, applicationData]);
}

/** The 16-byte MsvAvChannelBindings value for a TLS server certificate. */
export function ntlmChannelBindings(certificateDer: Uint8Array): Buffer {
  return md5(gssChannelBindingsStruct(tlsServerEndPoint(certificateDer)));
}
