import * as der from './der.ts';
import { OID_EXT } from './oids.ts';
import { readExtension } from './extensions-der.ts';
import { integerToSerialHex } from './serial.ts';

/**
 * OCSP on der.ts: BasicOCSPResponse encoding (RFC 6960 section 4.2.1) and plain request
 * decoding (section 4.1.1). A responder handles one request and signs one response per query,
 * and asn1-schema cost several times the ECDSA signature itself. ocsp-der.test.ts checks both
 * against @peculiar/asn1-ocsp.
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

export interface FastOcspRequest {
  certIds: { hashAlgorithmOid: string; issuerNameHash: Uint8Array; issuerKeyHash: Uint8Array; serialHex: string }[];
  nonce?: Uint8Array;
}

/**
 * Decodes the common unsigned request: optional v1 version, no requestorName, no per-request
 * extensions. Throws (any error) for anything else so the caller uses asn1-schema.
 */
export function decodeOcspRequestFast(buf: Uint8Array): FastOcspRequest {
  const outer = der.readTlv(buf, 0);
  if (outer.end !== buf.length) throw new der.DerError('trailing data');
  const [tbs, signature] = der.children(buf, der.expect(outer, 0x30));
  if (signature) throw new der.DerError('signed request');
  const f = der.children(buf, der.expect(tbs, 0x30));
  let i = 0;
  if (f[i]?.tag === 0xa0) {
    if (der.raw(buf, f[i++] as der.Tlv).join() !== '160,3,2,1,0') throw new der.DerError('version');
  }
  const out: FastOcspRequest = { certIds: [] };
  for (const req of der.children(buf, der.expect(f[i++], 0x30))) {
    const [certId, extra] = der.children(buf, der.expect(req, 0x30));
    if (extra) throw new der.DerError('singleRequestExtensions');
    const [alg, nameHash, keyHash, serial, more] = der.children(buf, der.expect(certId, 0x30));
    if (more) throw new der.DerError('extra CertID field');
    out.certIds.push({
      hashAlgorithmOid: der.algorithmOid(buf, alg), issuerNameHash: der.bytes(buf, der.expect(nameHash, 0x04)).slice(),
      issuerKeyHash: der.bytes(buf, der.expect(keyHash, 0x04)).slice(), serialHex: integerToSerialHex(der.bytes(buf, der.expect(serial, 0x02))),
    });
  }
  if (f[i]?.tag === 0xa2) {
    const [list, x] = der.children(buf, f[i++] as der.Tlv);
    if (x) throw new der.DerError('extra requestExtensions');
    for (const e of der.children(buf, der.expect(list, 0x30))) {
      const { raw } = readExtension(buf, e);
      if (raw.oid === OID_EXT.ocspNonce && out.nonce === undefined) out.nonce = raw.valueDer;
    }
  }
  if (f[i]) throw new der.DerError('requestorName or extra field');
  return out;
}
