import { AsnConvert } from '@peculiar/asn1-schema';
import { OCSPRequest, OCSPResponse, OCSPResponseStatus, id_pkix_ocsp_nonce } from '@peculiar/asn1-ocsp';
import * as der from './der.ts';
import { decodeOcspRequestFast, ocspResponseDer, responseDataDer, type FastOcspRequest, type SingleResponseDer } from './ocsp-der.ts';
import { PkiError, check, guard } from './errors.ts';
import { signBytes, signatureSchemeFor } from './algorithms.ts';
import { REVOCATION_REASON_CODES, type RevocationReason } from './crl.ts';
import { issuerContext, type Signer } from './issuer.ts';
import { integerToSerialHex, serialHexToBytes, serialToInteger } from './serial.ts';
import { issuerHashes } from './ocsp-hashes.ts';

/** OCSP requests and responses (RFC 6960 sections 4.1 and 4.2). */

export interface OcspCertId { hashAlgorithmOid: string; issuerNameHash: Uint8Array; issuerKeyHash: Uint8Array; serialHex: string }
export type OcspCertStatus = { status: 'good' } | { status: 'revoked'; revokedAt: Date; reason?: RevocationReason } | { status: 'unknown' };
export interface OcspSingleResponse { certId: OcspCertId; status: OcspCertStatus; thisUpdate: Date; nextUpdate?: Date }
export interface SignOcspResponseOptions {
  responder: Signer;
  /** Certificates to include (a delegated responder's certificate, RFC 6960 section 4.2.2.2); empty when the CA signs. */
  responderChain?: Uint8Array[];
  producedAt: Date;
  /** The request's nonce extension value, echoed verbatim (RFC 8954). */
  nonce?: Uint8Array;
  responses: OcspSingleResponse[];
}

export { issuerHashes };

/**
 * Decodes an OCSPRequest (DER; the server base64-decodes GET URLs first). Request signatures
 * are not checked: RFC 6960 section 4.1.2 makes them optional and we never require them.
 * `nonce` is the nonce extension's extnValue, to be echoed back unchanged.
 */
export function parseOcspRequest(der: Uint8Array): { certIds: OcspCertId[]; nonce?: Uint8Array } {
  check(der instanceof Uint8Array && der.length > 0, 'OCSP request: empty');
  let fast: FastOcspRequest | undefined;
  try {
    fast = decodeOcspRequestFast(der);
  } catch {
    // Signed, extended or unusual requests: the general decoder gives the verdict.
  }
  const { certIds, nonce } = fast ?? parseOcspRequestGeneral(der);
  if (certIds.length === 0) throw new PkiError('MALFORMED', 'OCSP request: empty requestList');
  if (!nonce) return { certIds };
  // RFC 8954 section 2.1: responders may reject nonces outside 1..32 octets (plus the OCTET STRING header).
  if (nonce.length === 0 || nonce.length > 34) throw new PkiError('MALFORMED', `OCSP request: nonce of ${nonce.length} octets`);
  return { certIds, nonce };
}

/** The asn1-schema decoder, before any checks; the reference for ocsp-der.test.ts. */
export function parseOcspRequestGeneral(der: Uint8Array): FastOcspRequest {
  const req = guard('OCSP request', () => AsnConvert.parse(der, OCSPRequest));
  const certIds = req.tbsRequest.requestList.map((r) => ({
    hashAlgorithmOid: r.reqCert.hashAlgorithm.algorithm,
    issuerNameHash: new Uint8Array(r.reqCert.issuerNameHash.buffer),
    issuerKeyHash: new Uint8Array(r.reqCert.issuerKeyHash.buffer),
    serialHex: integerToSerialHex(r.reqCert.serialNumber),
  }));
  const nonceExt = req.tbsRequest.requestExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
  return nonceExt ? { certIds, nonce: new Uint8Array(nonceExt.extnValue.buffer) } : { certIds };
}

/** The status in the encoder's terms; validates the reason. */
function statusDer(s: OcspCertStatus): SingleResponseDer['status'] {
  switch (s.status) {
    case 'good': return { kind: 'good' };
    case 'unknown': return { kind: 'unknown' };
    case 'revoked': {
      const code = s.reason === undefined ? undefined : REVOCATION_REASON_CODES[s.reason];
      if (s.reason !== undefined && code === undefined) throw new PkiError('MALFORMED', `unknown revocation reason "${s.reason}"`);
      return { kind: 'revoked', revokedAt: validDate(s.revokedAt), ...(code === undefined ? {} : { reasonCode: code }) };
    }
    default: throw new PkiError('MALFORMED', 'unknown OCSP certificate status');
  }
}

function validDate(d: Date): Date {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new PkiError('MALFORMED', 'OCSP times must be valid Dates');
  return d;
}

/**
 * Signs a successful OCSPResponse carrying a BasicOCSPResponse (RFC 6960 section 4.2.1),
 * responderID byKey (SHA-1 of the responder's public key), synchronously with node:crypto.
 */
export function signOcspResponse(opts: SignOcspResponseOptions): Uint8Array {
  if (opts.responses.length === 0) throw new PkiError('MALFORMED', 'OCSP response needs at least one SingleResponse');
  // Checks the key matches the responder certificate before anything is signed.
  issuerContext(opts.responder);
  const scheme = signatureSchemeFor(opts.responder.privateKey);
  const tbs = responseDataDer({
    responderKeyHash: responderKeyHash(opts.responder.certificateDer),
    producedAt: validDate(opts.producedAt),
    responses: opts.responses.map((r) => ({
      hashAlgorithmOid: r.certId.hashAlgorithmOid, issuerNameHash: r.certId.issuerNameHash, issuerKeyHash: r.certId.issuerKeyHash,
      serialContent: serialToInteger(serialHexToBytes(r.certId.serialHex)), status: statusDer(r.status), thisUpdate: validDate(r.thisUpdate),
      ...(r.nextUpdate ? { nextUpdate: validDate(r.nextUpdate) } : {}),
    })),
    ...(opts.nonce ? { nonce: opts.nonce } : {}),
  });
  const chain = opts.responderChain ?? [];
  for (const cert of chain) {
    // Included verbatim, so at least make sure each is one DER SEQUENCE and not, say, PEM text.
    const ok = guard('responderChain certificate', () => { const t = der.readTlv(cert, 0); return t.tag === 0x30 && t.end === cert.length; });
    check(ok, 'responderChain certificate: not one DER SEQUENCE');
  }
  const signature = signBytes(scheme, opts.responder.privateKey, tbs);
  return ocspResponseDer(tbs, scheme.algorithmDer, signature, chain);
}

/** ResponderID byKey: SHA-1 of the responder's subjectPublicKey (RFC 6960 section 4.2.1). */
function responderKeyHash(certDer: Uint8Array): Uint8Array {
  const hashes = issuerHashes(certDer, '1.3.14.3.2.26');
  check(hashes, 'OCSP responder: SHA-1 unavailable');
  return hashes.keyHash;
}

const ERROR_STATUS = {
  malformedRequest: OCSPResponseStatus.malformedRequest, internalError: OCSPResponseStatus.internalError,
  tryLater: OCSPResponseStatus.tryLater, sigRequired: OCSPResponseStatus.sigRequired, unauthorized: OCSPResponseStatus.unauthorized,
} as const;

/** An unsigned OCSPResponse with an error status and no responseBytes (RFC 6960 section 4.2.1). */
export function ocspErrorResponse(status: keyof typeof ERROR_STATUS): Uint8Array {
  const code = ERROR_STATUS[status];
  if (code === undefined) throw new PkiError('MALFORMED', `unknown OCSP error status "${String(status)}"`);
  return new Uint8Array(AsnConvert.serialize(new OCSPResponse({ responseStatus: code })));
}
