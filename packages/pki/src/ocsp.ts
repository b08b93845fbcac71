import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, CRLReason, Certificate, Extension } from '@peculiar/asn1-x509';
import {
  BasicOCSPResponse, CertID, CertStatus, KeyHash, OCSPRequest, OCSPResponse, OCSPResponseStatus, ResponderID,
  ResponseBytes, ResponseData, RevokedInfo, SingleResponse, id_pkix_ocsp_basic, id_pkix_ocsp_nonce,
} from '@peculiar/asn1-ocsp';
import { PkiError, check, guard } from './errors.ts';
import { signBytes, signatureSchemeFor } from './algorithms.ts';
import { REVOCATION_REASON_CODES, type RevocationReason } from './crl.ts';
import { issuerContext, type Signer } from './issuer.ts';
import { integerToSerialHex, serialHexToBytes, serialToInteger } from './serial.ts';
import { cachedCertificate, issuerHashes } from './ocsp-hashes.ts';

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
  const req = guard('OCSP request', () => AsnConvert.parse(der, OCSPRequest));
  const certIds = req.tbsRequest.requestList.map((r) => ({
    hashAlgorithmOid: r.reqCert.hashAlgorithm.algorithm,
    issuerNameHash: new Uint8Array(r.reqCert.issuerNameHash.buffer),
    issuerKeyHash: new Uint8Array(r.reqCert.issuerKeyHash.buffer),
    serialHex: integerToSerialHex(r.reqCert.serialNumber),
  }));
  if (certIds.length === 0) throw new PkiError('MALFORMED', 'OCSP request: empty requestList');
  const nonceExt = req.tbsRequest.requestExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
  if (!nonceExt) return { certIds };
  const nonce = new Uint8Array(nonceExt.extnValue.buffer);
  // RFC 8954 section 2.1: responders may reject nonces outside 1..32 octets (plus the OCTET STRING header).
  if (nonce.length === 0 || nonce.length > 34) throw new PkiError('MALFORMED', `OCSP request: nonce of ${nonce.length} octets`);
  return { certIds, nonce };
}

function certStatus(s: OcspCertStatus): CertStatus {
  switch (s.status) {
    case 'good': return new CertStatus({ good: null });
    case 'unknown': return new CertStatus({ unknown: null });
    case 'revoked': {
      const code = s.reason === undefined ? undefined : REVOCATION_REASON_CODES[s.reason];
      if (s.reason !== undefined && code === undefined) throw new PkiError('MALFORMED', `unknown revocation reason "${s.reason}"`);
      return new CertStatus({ revoked: new RevokedInfo({ revocationTime: wholeSeconds(s.revokedAt), revocationReason: code === undefined ? undefined : new CRLReason(code) }) });
    }
    default: throw new PkiError('MALFORMED', 'unknown OCSP certificate status');
  }
}

/** GeneralizedTime in DER carries no fractional seconds when they are zero (RFC 5280 section 4.1.2.5.2). */
function wholeSeconds(d: Date): Date {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new PkiError('MALFORMED', 'OCSP times must be valid Dates');
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

function certIdOf(id: OcspCertId): CertID {
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: id.hashAlgorithmOid, parameters: new Uint8Array([5, 0]).buffer }),
    issuerNameHash: new OctetString(id.issuerNameHash.slice().buffer),
    issuerKeyHash: new OctetString(id.issuerKeyHash.slice().buffer),
    serialNumber: serialToInteger(serialHexToBytes(id.serialHex)).buffer as ArrayBuffer,
  });
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
  const data = new ResponseData({
    responderID: new ResponderID({ byKey: new KeyHash(responderKeyHash(opts.responder.certificateDer)) }),
    producedAt: wholeSeconds(opts.producedAt),
    responses: opts.responses.map((r) => new SingleResponse({
      certID: certIdOf(r.certId), certStatus: certStatus(r.status), thisUpdate: wholeSeconds(r.thisUpdate),
      nextUpdate: r.nextUpdate ? wholeSeconds(r.nextUpdate) : undefined,
    })),
    responseExtensions: opts.nonce
      ? [new Extension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: new OctetString(opts.nonce.slice().buffer) })]
      : undefined,
  });
  const tbsDer = new Uint8Array(AsnConvert.serialize(data));
  const signature = signBytes(scheme, opts.responder.privateKey, tbsDer);
  const certs: Certificate[] | undefined = opts.responderChain?.length ? opts.responderChain.map(cachedCertificate) : undefined;
  const basic = new BasicOCSPResponse({ tbsResponseData: data, signatureAlgorithm: scheme.algorithm, signature: signature.slice().buffer, certs });
  const response = new OCSPResponse({
    responseStatus: OCSPResponseStatus.successful,
    responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(AsnConvert.serialize(basic)) }),
  });
  return new Uint8Array(AsnConvert.serialize(response));
}

/** ResponderID byKey: SHA-1 of the responder's subjectPublicKey (RFC 6960 section 4.2.1). */
function responderKeyHash(certDer: Uint8Array): ArrayBuffer {
  const hashes = issuerHashes(certDer, '1.3.14.3.2.26');
  check(hashes, 'OCSP responder: SHA-1 unavailable');
  return hashes.keyHash.slice().buffer;
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
