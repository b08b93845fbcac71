import { describe, expect, it } from 'vitest';
import { buildCsr, parseCsr } from './csr.ts';
import { parseCertificate, verifyCertificateSignature } from './certificate.ts';
import { parseCrl, signCrl } from './crl.ts';
import { parseOcspRequest } from './ocsp.ts';
import { buildCertsOnlyPkcs7, parseCertsOnlyPkcs7 } from './pkcs7.ts';
import { describePublicKey, exportPrivateKeyPkcs8Der, generateKeyPair, importPrivateKey, spkiOf } from './keys.ts';
import { parseDn } from './names.ts';
import { pemEncode } from './pem.ts';
import { PkiError } from './errors.ts';
import { AFTER, BEFORE, makeIssued, makeRoot } from './test-helpers.ts';

/**
 * Every parser, fed truncated, random and bit-flipped input, must answer with PkiError (or, for
 * flips that keep the structure valid, a result): never a TypeError/RangeError from a library,
 * never a hang.
 */

const root = makeRoot('EC-P256');
const leaf = makeIssued(root, 'EC-P256', { sans: [{ type: 'dns', value: 'a.test' }, { type: 'upn', value: 'u@corp.test' }] });
const keys = generateKeyPair('EC-P256');
const csr = buildCsr({ subject: parseDn('CN=a.test, O=Acme'), sans: [{ type: 'ip', value: '::1' }], challengePassword: 'pw', ...keys });
const crl = signCrl({ issuer: root, crlNumber: 3n, thisUpdate: BEFORE, nextUpdate: AFTER, revoked: [{ serialHex: '0a0b', revokedAt: BEFORE, reason: 'superseded' }] });
// A fixed OCSP request (openssl ocsp -reqout, SHA-1 CertID, with nonce) keeps this file free of subprocesses.
const ocspReq = Buffer.from('30763074304d304b3049300906052b0e03021a05000414b82395436cd55b6185f472beb6dcf68f559166f60414adda0b13bbf4b6a853'
  + 'b44148c35ee8a924ec7e9602106ce06f4d0afd1e9455f0e81afc37547ea2233021301f06092b060105050730010204120410c61dfe79e42e8c6cf83a2debacde74a5', 'hex');

type Parser = (input: Uint8Array) => unknown;
const PARSERS: [string, Parser, Uint8Array][] = [
  ['parseCsr', parseCsr, csr],
  ['parseCertificate', parseCertificate, leaf.certificateDer],
  ['verifyCertificateSignature', (d) => verifyCertificateSignature(d, spkiOf(root.keys.publicKey)), leaf.certificateDer],
  ['parseCrl', parseCrl, crl],
  ['parseOcspRequest', parseOcspRequest, new Uint8Array(ocspReq)],
  ['parseCertsOnlyPkcs7', parseCertsOnlyPkcs7, buildCertsOnlyPkcs7([leaf.certificateDer, root.certificateDer])],
  ['describePublicKey', describePublicKey, spkiOf(keys.publicKey)],
  ['importPrivateKey', importPrivateKey, exportPrivateKeyPkcs8Der(keys.privateKey)],
];

/** Deterministic xorshift so a failure reproduces. */
function rng(seed: number): () => number {
  let x = seed;
  return () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) / 0x1_0000_0000; };
}

/** The names of every non-PkiError thrown over the inputs (expected: none), and how many inputs parsed without error. */
function run(parse: Parser, inputs: Uint8Array[]): { foreign: string[]; parsed: number } {
  const foreign: string[] = [];
  let parsed = 0;
  for (const input of inputs) {
    try { parse(input); parsed++; } catch (err) { if (!(err instanceof PkiError)) foreign.push(`${(err as Error).name}: ${(err as Error).message}`); }
  }
  return { foreign, parsed };
}

describe('malformed input', () => {
  it.each(PARSERS)('fail/%s: every truncation throws PkiError', (_n, parse, good) => {
    const inputs = Array.from({ length: good.length }, (_, i) => good.slice(0, i));
    expect(run(parse, inputs)).toEqual({ foreign: [], parsed: 0 });
  });

  it.each(PARSERS)('fail/%s: random bytes throw PkiError', (_n, parse) => {
    const next = rng(0x5eed);
    const inputs = Array.from({ length: 300 }, (_, i) => {
      const bytes = new Uint8Array(1 + Math.floor(next() * 600)).map(() => Math.floor(next() * 256));
      // Half start like a DER SEQUENCE with a plausible length so the decoders go deeper.
      if (i % 2 === 0 && bytes.length > 4) { bytes[0] = 0x30; bytes[1] = 0x82; bytes[2] = (bytes.length - 4) >> 8; bytes[3] = (bytes.length - 4) & 0xff; }
      return bytes;
    });
    expect(run(parse, inputs)).toEqual({ foreign: [], parsed: 0 });
  });

  it.each(PARSERS)('fail/%s: bit flips never throw a foreign error', (_n, parse, good) => {
    const inputs = Array.from({ length: good.length }, (_, i) => { const b = good.slice(); b[i] = (b[i] ?? 0) ^ 0x80; return b; });
    expect(run(parse, inputs).foreign).toEqual([]);
  });

  it('ok/the fixed OCSP request sample is valid', () => {
    expect(parseOcspRequest(new Uint8Array(ocspReq)).certIds[0]?.serialHex).toBe('6ce06f4d0afd1e9455f0e81afc37547e');
  });

  it.each([
    ['parseCsr', (t: string) => parseCsr(t), pemEncode('CERTIFICATE REQUEST', csr)],
    ['parseCertificate', (t: string) => parseCertificate(t), leaf.pem],
    ['parseCrl', (t: string) => parseCrl(t), pemEncode('X509 CRL', crl)],
    ['importPrivateKey', (t: string) => importPrivateKey(t), keys.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string],
  ])('fail/%s: PEM text cut before its END line throws PkiError', (_n, parse, good) => {
    const inputs = Array.from({ length: good.indexOf('-----END') }, (_, i) => new Uint8Array(Buffer.from(good.slice(0, i), 'utf8')));
    expect(run((b) => parse(Buffer.from(b).toString('utf8')), inputs)).toEqual({ foreign: [], parsed: 0 });
  });
});
