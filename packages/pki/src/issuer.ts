import type { KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, type Name } from '@peculiar/asn1-x509';
import { PkiError, guard } from './errors.ts';
import * as d from './der.ts';
import { digest } from './digest.ts';
import { keyIdentifier, readKeyIdentifier } from './extensions.ts';
import { publicKeyFromSpki, spkiOf } from './keys.ts';
import { OID_EXT } from './oids.ts';

/** A CA (or OCSP responder) able to sign: its certificate and the matching private key. */
export interface Signer { certificateDer: Uint8Array; privateKey: KeyObject }

export interface IssuerContext {
  /** The issuer certificate's subject, reused as-is so child issuer names match byte for byte (RFC 5280 section 7.1). */
  name: Name;
  /** The same subject, as its exact DER bytes. */
  nameDer: Uint8Array;
  /** The issuer's subjectKeyIdentifier, or the method (1) hash when the certificate has none. */
  keyId: Uint8Array;
  spkiDer: Uint8Array;
}

/**
 * Decoded issuer facts, cached by certificate fingerprint. Parsing the CA certificate on every
 * issuance would cost as much as building the leaf; the cache is small because a deployment
 * has a handful of CAs.
 */
const cache = new Map<string, IssuerContext>();
/** Private keys already checked against a certificate fingerprint. */
const keyChecks = new WeakMap<KeyObject, Set<string>>();
const MAX_CACHED = 256;

export function issuerContext(signer: Signer): IssuerContext {
  const fp = digest('sha256', signer.certificateDer, 'base64');
  let ctx = cache.get(fp);
  if (!ctx) {
    ctx = decodeIssuer(signer.certificateDer);
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
    cache.set(fp, ctx);
  }
  const checked = keyChecks.get(signer.privateKey) ?? new Set<string>();
  if (!checked.has(fp)) {
    if (signer.privateKey.type !== 'private') throw new PkiError('MALFORMED', 'signer.privateKey is not a private key');
    if (Buffer.compare(spkiOf(signer.privateKey), ctx.spkiDer) !== 0) {
      throw new PkiError('MALFORMED', 'signer private key does not match the signer certificate');
    }
    checked.add(fp);
    keyChecks.set(signer.privateKey, checked);
  }
  return ctx;
}

function decodeIssuer(der: Uint8Array): IssuerContext {
  const cert = guard('issuer certificate', () => AsnConvert.parse(der, Certificate));
  const tbs = cert.tbsCertificate;
  const skiExt = tbs.extensions?.find((e) => e.extnID === OID_EXT.subjectKeyIdentifier);
  const keyId = skiExt ? readKeyIdentifier(skiExt.extnValue.buffer, false) : keyIdentifier(tbs.subjectPublicKeyInfo);
  // Re-export through node so the comparison with spkiOf(privateKey) is canonical.
  const spkiDer = new Uint8Array(publicKeyFromSpki(new Uint8Array(AsnConvert.serialize(tbs.subjectPublicKeyInfo))).export({ format: 'der', type: 'spki' }));
  return { name: tbs.subject, nameDer: rawSubject(der), keyId: keyId ?? keyIdentifier(tbs.subjectPublicKeyInfo), spkiDer };
}

/** The subject Name exactly as encoded in the certificate (re-encoding could change string types of non-DER input). */
function rawSubject(certDer: Uint8Array): Uint8Array {
  return guard('issuer certificate subject', () => {
    const tbs = d.expect(d.children(certDer, d.readTlv(certDer, 0))[0], 0x30);
    const fields = d.children(certDer, tbs);
    const skip = fields[0]?.tag === 0xa0 ? 1 : 0;
    // version?, serialNumber, signature, issuer, validity, subject
    return d.raw(certDer, d.expect(fields[skip + 4], 0x30)).slice();
  });
}
