import * as der from './der.ts';
import { OID_EXT } from './oids.ts';

/**
 * BasicOCSPResponse encoding (RFC 6960 section 4.2.1) with der.ts: an OCSP responder signs one
 * response per request, and asn1-schema cost several times the ECDSA signature itself.
 * ocsp-der.test.ts checks the output byte for byte against @peculiar/asn1-ocsp.
 */

const OID_PKIX_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';

/** GeneralizedTime, whole seconds (RFC 6960 uses GeneralizedTime throughout). */
export function generalizedTime(d: Date): Uint8Array {
  const digits = d.toISOString().slice(0, 19).replace(/[-T:]/g, '');
  return der.tlv(0x18, new Uint8Array(Buffer.from(`${digits}Z`, 'latin1')));
}

export interface SingleResponseDer {
  hashAlgorithmOid: string; issuerNameHash: Uint8Array; issuerKeyHash: Uint8Array; serialContent: Uint8Array;
  status: { kind: 'good' } | { kind: 'unknown' } | { kind: 'revoked'; revokedAt: Date; reasonCode?: number };
  thisUpdate: Date; nextUpdate?: Date;
}

function certStatus(s: SingleResponseDer['status']): Uint8Array {
  switch (s.kind) {
    case 'good': return new Uint8Array([0x80, 0x00]);
    case 'unknown': return new Uint8Array([0x82, 0x00]);
    case 'revoked': return der.tlv(0xa1, generalizedTime(s.revokedAt),
      ...(s.reasonCode === undefined ? [] : [der.tlv(0xa0, der.tlv(0x0a, new Uint8Array([s.reasonCode])))]));
  }
}

function singleResponse(r: SingleResponseDer): Uint8Array {
  // NULL parameters, as OpenSSL writes them; relying parties compare the hash OID only.
  const hashAlg = der.seq(der.oid(r.hashAlgorithmOid), der.NULL);
  return der.seq(
    der.seq(hashAlg, der.octets(r.issuerNameHash), der.octets(r.issuerKeyHash), der.tlv(0x02, r.serialContent)),
    certStatus(r.status),
    generalizedTime(r.thisUpdate),
    ...(r.nextUpdate ? [der.tlv(0xa0, generalizedTime(r.nextUpdate))] : []),
  );
}

/** ResponseData with responderID byKey and an optional nonce extension echoed verbatim. */
export function responseDataDer(p: { responderKeyHash: Uint8Array; producedAt: Date; responses: SingleResponseDer[]; nonce?: Uint8Array }): Uint8Array {
  return der.seq(
    der.tlv(0xa2, der.octets(p.responderKeyHash)),
    generalizedTime(p.producedAt),
    der.seq(...p.responses.map(singleResponse)),
    ...(p.nonce ? [der.tlv(0xa1, der.seq(der.seq(der.oid(OID_EXT.ocspNonce), der.octets(p.nonce))))] : []),
  );
}

/** OCSPResponse (successful) wrapping the BasicOCSPResponse; `certs` are certificate DERs included as-is. */
export function ocspResponseDer(tbs: Uint8Array, algorithmDer: Uint8Array, signature: Uint8Array, certs: Uint8Array[]): Uint8Array {
  const basic = der.seq(tbs, algorithmDer, der.bitString(signature), ...(certs.length ? [der.tlv(0xa0, der.seq(...certs))] : []));
  return der.seq(der.tlv(0x0a, new Uint8Array([0])), der.tlv(0xa0, der.seq(der.oid(OID_PKIX_OCSP_BASIC), der.octets(basic))));
}
