import { describe, expect, it } from 'vitest';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, CRLReason, Certificate, Extension } from '@peculiar/asn1-x509';
import {
  BasicOCSPResponse, CertID, CertStatus, KeyHash, OCSPResponse, OCSPResponseStatus, ResponderID, ResponseBytes, ResponseData, RevokedInfo,
  SingleResponse, id_pkix_ocsp_basic, id_pkix_ocsp_nonce,
} from '@peculiar/asn1-ocsp';
import { issuerHashes, parseOcspRequest, parseOcspRequestGeneral, signOcspResponse, type OcspSingleResponse } from './ocsp.ts';
import { decodeOcspRequestFast } from './ocsp-der.ts';
import { REVOCATION_REASON_CODES } from './crl.ts';
import { serialHexToBytes, serialToInteger } from './serial.ts';
import { signatureSchemeFor } from './algorithms.ts';
import * as der from './der.ts';
import { PkiError } from './errors.ts';
import { makeIssued, makeRoot, openssl, workdir, type TestCa } from './test-helpers.ts';
import { afterAll } from 'vitest';

/** ocsp-der.ts against @peculiar/asn1-ocsp: same bytes, signature aside. */

/** The reference OCSPResponse from asn1-ocsp classes (how signOcspResponse encoded before ocsp-der.ts), with `signature` plugged in. */
function reference(responder: TestCa, producedAt: Date, responses: OcspSingleResponse[], nonce: Uint8Array | undefined, signature: Uint8Array, chain: Uint8Array[]): Uint8Array {
  const status = (s: OcspSingleResponse['status']): CertStatus => s.status === 'good' ? new CertStatus({ good: null }) : s.status === 'unknown'
    ? new CertStatus({ unknown: null })
    : new CertStatus({ revoked: new RevokedInfo({ revocationTime: s.revokedAt, revocationReason: s.reason === undefined ? undefined : new CRLReason(REVOCATION_REASON_CODES[s.reason]) }) });
  const data = new ResponseData({
    responderID: new ResponderID({ byKey: new KeyHash(issuerHashes(responder.certificateDer, '1.3.14.3.2.26')?.keyHash.slice().buffer ?? new ArrayBuffer(0)) }),
    producedAt,
    responses: responses.map((r) => new SingleResponse({
      certID: new CertID({
        hashAlgorithm: new AlgorithmIdentifier({ algorithm: r.certId.hashAlgorithmOid, parameters: new Uint8Array([5, 0]).buffer }),
        issuerNameHash: new OctetString(r.certId.issuerNameHash.slice().buffer), issuerKeyHash: new OctetString(r.certId.issuerKeyHash.slice().buffer),
        serialNumber: serialToInteger(serialHexToBytes(r.certId.serialHex)).slice().buffer,
      }),
      certStatus: status(r.status), thisUpdate: r.thisUpdate, nextUpdate: r.nextUpdate,
    })),
    responseExtensions: nonce ? [new Extension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: new OctetString(nonce.slice().buffer) })] : undefined,
  });
  const basic = new BasicOCSPResponse({
    tbsResponseData: data, signatureAlgorithm: signatureSchemeFor(responder.privateKey).algorithm, signature: signature.slice().buffer,
    certs: chain.length ? chain.map((c) => AsnConvert.parse(c, Certificate)) : undefined,
  });
  return new Uint8Array(AsnConvert.serialize(new OCSPResponse({
    responseStatus: OCSPResponseStatus.successful,
    responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(AsnConvert.serialize(basic)) }),
  })));
}

/** The signature inside our response, to rebuild the reference with it. */
function signatureOf(resp: Uint8Array): Uint8Array {
  const bytes = der.children(resp, der.readTlv(resp, 0))[1] as der.Tlv;
  const octets = der.children(resp, der.children(resp, bytes)[0] as der.Tlv)[1] as der.Tlv;
  const basic = der.bytes(resp, octets);
  return der.bytes(basic, der.children(basic, der.readTlv(basic, 0))[2] as der.Tlv).subarray(1);
}

const root = makeRoot('EC-P256');
const delegated = makeIssued(root, 'EC-P256');
const t = (s: string): Date => new Date(s);
const id = (serialHex: string, hashAlgorithmOid = '1.3.14.3.2.26') => ({ hashAlgorithmOid, issuerNameHash: new Uint8Array(20).fill(1), issuerKeyHash: new Uint8Array(20).fill(2), serialHex });

const CASES: [string, OcspSingleResponse[], Uint8Array | undefined, Uint8Array[]][] = [
  ['good, no nonce', [{ certId: id('01'), status: { status: 'good' }, thisUpdate: t('2026-01-01T00:00:00Z') }], undefined, []],
  ['revoked with reason, nonce, nextUpdate', [{ certId: id('ff00'), status: { status: 'revoked', revokedAt: t('2025-12-31T23:59:59Z'), reason: 'keyCompromise' }, thisUpdate: t('2026-01-01T00:00:00Z'), nextUpdate: t('2026-01-08T00:00:00Z') }],
    new Uint8Array([4, 16, ...new Array<number>(16).fill(7)]), []],
  ['revoked without reason, unknown, SHA-256 id, delegated chain', [
    { certId: id('0a0b0c', '2.16.840.1.101.3.4.2.1'), status: { status: 'revoked', revokedAt: t('2030-06-01T12:00:00Z') }, thisUpdate: t('2030-06-01T12:00:00Z') },
    { certId: id('7f'), status: { status: 'unknown' }, thisUpdate: t('2030-06-01T12:00:00Z'), nextUpdate: t('2060-01-01T00:00:00Z') },
  ], undefined, [delegated.certificateDer]],
];

describe('ocsp-der against asn1-ocsp', () => {
  it.each(CASES)('ok/%s', (_n, responses, nonce, chain) => {
    const producedAt = t('2026-01-01T00:00:01Z');
    const ours = signOcspResponse({ responder: root, producedAt, responses, nonce, responderChain: chain });
    expect(Buffer.from(ours).toString('hex')).toBe(Buffer.from(reference(root, producedAt, responses, nonce, signatureOf(ours), chain)).toString('hex'));
  });

  it.each([
    ['fail/PEM text as chain certificate', [new TextEncoder().encode('-----BEGIN CERTIFICATE-----')], new PkiError('MALFORMED', 'responderChain certificate: truncated value')],
    ['fail/two certificates glued together', [new Uint8Array([...root.certificateDer, ...root.certificateDer])], new PkiError('MALFORMED', 'responderChain certificate: not one DER SEQUENCE')],
  ])('%s', (_n, chain, error) => {
    expect(() => signOcspResponse({ responder: root, producedAt: new Date(), responses: CASES[0]?.[1] ?? [], responderChain: chain })).toThrow(error);
  });
});

describe('OCSP request decoding against asn1-ocsp', () => {
  const wd = workdir();
  afterAll(() => wd.cleanup());
  const rootFile = wd.write('root.pem', root.pem);
  const leafFile = wd.write('leaf.pem', delegated.pem);
  const request = (name: string, extra: string[]): Uint8Array => {
    const res = openssl(['ocsp', ...extra, '-issuer', rootFile, '-cert', leafFile, '-cert', rootFile, '-reqout', wd.path(name)]);
    if (res.status !== 0) throw new Error(res.out);
    return new Uint8Array(wd.read(name));
  };
  const view = (r: { certIds: unknown[]; nonce?: Uint8Array }): string => JSON.stringify({ ids: r.certIds, nonce: r.nonce ? [...r.nonce] : null });
  const SAMPLES: [string, () => Uint8Array][] = [
    ['two certificates with nonce', () => request('a.der', [])],
    ['SHA-256 CertIDs without nonce', () => request('b.der', ['-no_nonce', '-sha256'])],
  ];

  it.each(SAMPLES)('ok/%s: the fast decoder accepts and agrees', (_n, make) => {
    const der = make();
    expect([view(decodeOcspRequestFast(der)), parseOcspRequest(der).certIds.length]).toEqual([view(parseOcspRequestGeneral(der)), 2]);
  });

  it.each(SAMPLES)('ok/%s: every single-bit flip the fast decoder accepts decodes the same in asn1-schema', (_n, make) => {
    const good = make();
    const disagreements: string[] = [];
    for (let i = 0; i < good.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const b = good.slice();
        b[i] = (b[i] ?? 0) ^ bit;
        let fast: string;
        try { fast = view(decodeOcspRequestFast(b)); } catch { continue; }
        let general: string;
        try { general = view(parseOcspRequestGeneral(b)); } catch (e) { general = String(e); }
        if (fast !== general) disagreements.push(`byte ${i} bit ${bit}: ${general.slice(0, 100)}`);
      }
    }
    expect(disagreements).toEqual([]);
  });
});
