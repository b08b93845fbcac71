import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { guard } from './errors.ts';

/**
 * CertID hashes (RFC 6960 section 4.1.1): issuerNameHash is the hash of the issuer's DER
 * subject Name, issuerKeyHash the hash of its subjectPublicKey BIT STRING contents.
 */

const HASHES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1', '2.16.840.1.101.3.4.2.1': 'sha256', '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512',
};

interface IssuerParts { nameDer: Uint8Array; keyBits: Uint8Array }
/** Parsed certificates by fingerprint: an OCSP responder answers for a handful of CAs, millions of times. */
const parts = new Map<string, IssuerParts>();
const certs = new Map<string, Certificate>();
const MAX = 256;

function remember<T>(map: Map<string, T>, key: string, value: T): T {
  if (map.size >= MAX) map.delete(map.keys().next().value as string);
  map.set(key, value);
  return value;
}

/** The decoded certificate for `der`, parsed once. */
export function cachedCertificate(der: Uint8Array): Certificate {
  const fp = createHash('sha256').update(der).digest('base64');
  return certs.get(fp) ?? remember(certs, fp, guard('certificate', () => AsnConvert.parse(der, Certificate)));
}

/** Name and key hashes of `issuerCertDer` for `hashAlgorithmOid`; null for hashes we do not support (SHA-1/256/384/512 are). */
export function issuerHashes(issuerCertDer: Uint8Array, hashAlgorithmOid: string): { nameHash: Uint8Array; keyHash: Uint8Array } | null {
  const hash = HASHES[hashAlgorithmOid];
  if (!hash) return null;
  const fp = createHash('sha256').update(issuerCertDer).digest('base64');
  let p = parts.get(fp);
  if (!p) {
    const tbs = cachedCertificate(issuerCertDer).tbsCertificate;
    p = remember(parts, fp, {
      nameDer: new Uint8Array(AsnConvert.serialize(tbs.subject)),
      keyBits: new Uint8Array(tbs.subjectPublicKeyInfo.subjectPublicKey),
    });
  }
  return {
    nameHash: new Uint8Array(createHash(hash).update(p.nameDer).digest()),
    keyHash: new Uint8Array(createHash(hash).update(p.keyBits).digest()),
  };
}
