import fc from 'fast-check';
import { describe, it } from 'vitest';
import { PkiError, buildCertsOnlyPkcs7, buildCsr, generateKeyPair, parseCertificate, parseCertsOnlyPkcs7, parseCrl, parseCsr, parseDn, parseOcspRequest, pemEncode, signCrl } from '@certbridge/pki';
import { AFTER, BEFORE, makeIssued, makeRoot } from '../../pki/src/test-helpers.ts';
import { bytesFrom, fuzz, returnsOrThrows, textFrom } from './fuzz-arbitraries.ts';

/**
 * Property-based fuzzing of the @certbridge/pki parsers every enrollment path feeds with client
 * bytes: PKCS#10 first (API, ACME finalize, EST, SCEP), then certificates, CRLs, OCSP requests and
 * certs-only PKCS#7. Each must return a value or throw PkiError, nothing else.
 */
const root = makeRoot('EC-P256');
const rsaRoot = makeRoot('RSA-2048');
const leaf = makeIssued(root, 'EC-P256', { sans: [{ type: 'dns', value: 'a.test' }, { type: 'upn', value: 'u@corp.test' }, { type: 'ip', value: '10.0.0.1' }] });
const csrs = (['EC-P256', 'RSA-2048', 'EC-P384'] as const).map((alg) => buildCsr({
  subject: parseDn('CN=fuzz.test, O=Fuzz, C=DE'),
  sans: [{ type: 'dns', value: 'fuzz.test' }, { type: 'ip', value: '::1' }, { type: 'email', value: 'a@fuzz.test' }],
  challengePassword: 'pw',
  ...generateKeyPair(alg),
}));
const crl = signCrl({ issuer: root, crlNumber: 7n, thisUpdate: BEFORE, nextUpdate: AFTER, revoked: [{ serialHex: '0a0b', revokedAt: BEFORE, reason: 'keyCompromise' }] });
// openssl ocsp -reqout: SHA-1 CertID with a nonce extension.
const ocspReq = new Uint8Array(Buffer.from('30763074304d304b3049300906052b0e03021a05000414b82395436cd55b6185f472beb6dcf68f559166f60414adda0b13bbf4b6a853'
  + 'b44148c35ee8a924ec7e9602106ce06f4d0afd1e9455f0e81afc37547ea2233021301f06092b060105050730010204120410c61dfe79e42e8c6cf83a2debacde74a5', 'hex'));

const CASES: [string, (input: Uint8Array) => unknown, Uint8Array[]][] = [
  ['parseCsr (PKCS#10 DER)', parseCsr, csrs],
  ['parseCertificate', parseCertificate, [leaf.certificateDer, rsaRoot.certificateDer]],
  ['parseCrl', parseCrl, [crl]],
  ['parseOcspRequest', parseOcspRequest, [ocspReq]],
  ['parseCertsOnlyPkcs7', parseCertsOnlyPkcs7, [buildCertsOnlyPkcs7([leaf.certificateDer, root.certificateDer])]],
];

describe('pki parsers under fast-check', () => {
  it.each(CASES)('ok/%s returns or throws PkiError', async (_name, parse, valid) => {
    await fuzz(fc.property(bytesFrom(valid), (input) => returnsOrThrows([PkiError], () => parse(input), input)));
  });

  it('ok/parseCsr of PEM text (damaged armour, base64 and line breaks) returns or throws PkiError', async () => {
    const pems = csrs.map((der) => pemEncode('CERTIFICATE REQUEST', der));
    await fuzz(fc.property(textFrom([...pems, pems[0]!.replace('CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST')]), (text) => returnsOrThrows([PkiError], () => parseCsr(text), text)));
  });

  it('fail/a damaged PKCS#10 is refused as MALFORMED, not parsed into another request', async () => {
    await fuzz(fc.property(fc.integer({ min: 1, max: csrs[0]!.length - 1 }), (cut) => {
      try {
        parseCsr(csrs[0]!.subarray(0, cut));
      } catch (err) {
        return err instanceof PkiError && err.code === 'MALFORMED';
      }
      return false;
    }), 200);
  });
});
