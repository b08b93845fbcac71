import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PkiError, buildCsr, generateKeyPair, parseCsr, parseDn } from '@certbridge/pki';
import { AppError } from '../src/errors.ts';
import { openEnvelope } from '../src/enrollment/scep/cms-envelope.ts';
import { decodePkiMessage, readIssuerAndSerial } from '../src/enrollment/scep/scep-message.ts';
import { issuerAndSerial } from '../src/enrollment/scep/cms-envelope.ts';
import { decodeBase64Body, decodePkcs10Body } from '../src/enrollment/est/est-wire.ts';
import { bytesFrom, fuzz, returnsOrThrows, textFrom } from './fuzz-arbitraries.ts';
import { DES3, certPoll, clientIdentity, pkcsReq } from './scep-message-builder.ts';

/**
 * fast-check over the SCEP CMS decoders (SignedData pkiMessage, the pkcsPKIEnvelope inside it,
 * IssuerAndSerialNumber of GetCert/GetCRL) and the EST body decoders. The server's one error type
 * is AppError; these decoders must return or throw it (the routes map it to a 400 or a signed
 * FAILURE). Samples are real client messages built with the test SCEP client against an RSA RA.
 */
const ra = clientIdentity('Fuzz RA');
const client = clientIdentity('fuzz-client');
const raKey = { privateKey: ra.privateKey, certificateDer: ra.cert };
const messages = [
  pkcsReq({ raCert: ra.cert, client, challenge: 'fuzz challenge' }),
  pkcsReq({ raCert: ra.cert, client, cipher: DES3 }),
  certPoll({ raCert: ra.cert, client, transactionId: 'f'.repeat(40) }),
].map((b) => new Uint8Array(b));
const envelopes = messages.map((m) => decodePkiMessage(m).envelope!);

const csr = buildCsr({ subject: parseDn('CN=est.fuzz.test'), sans: [{ type: 'dns', value: 'est.fuzz.test' }], ...generateKeyPair('EC-P256') });
const csrB64 = Buffer.from(csr).toString('base64');

describe('SCEP CMS decoding under fast-check', () => {
  it('ok/the samples decode and verify (the fuzzer starts from real messages)', () => {
    expect(messages.map((m) => decodePkiMessage(m).signatureValid)).toEqual([true, true, true]);
    expect(parseCsr(openEnvelope(envelopes[0]!, raKey).content).subjectText).toBe('CN=fuzz-client.scep.example.test');
  });

  it('ok/decodePkiMessage returns or throws AppError', async () => {
    await fuzz(fc.property(bytesFrom(messages), (der) => returnsOrThrows([AppError], () => decodePkiMessage(der), der)));
  });

  it('ok/openEnvelope returns or throws AppError, and the PKCS#10 inside returns or throws PkiError', async () => {
    await fuzz(fc.property(bytesFrom(envelopes), (der) => {
      let content: Uint8Array | undefined;
      returnsOrThrows([AppError], () => { content = openEnvelope(der, raKey).content; }, der);
      if (content) returnsOrThrows([PkiError], () => parseCsr(content!), content);
    }));
  });

  it('ok/readIssuerAndSerial (GetCert, GetCRL) returns or throws AppError', async () => {
    await fuzz(fc.property(bytesFrom([issuerAndSerial(client.cert)]), (der) => returnsOrThrows([AppError], () => readIssuerAndSerial(der), der)));
  });
});

describe('EST bodies under fast-check', () => {
  const bodies = [csrB64, csrB64.replace(/(.{64})/g, '$1\r\n'), `${csrB64}\n`];

  it('ok/decodePkcs10Body of damaged base64 text returns or throws AppError', async () => {
    await fuzz(fc.property(textFrom(bodies), (text) => returnsOrThrows([AppError], () => decodePkcs10Body(text), text)));
  });

  it('ok/decodePkcs10Body of base64 around damaged DER, then parseCsr, returns or throws AppError/PkiError', async () => {
    await fuzz(fc.property(bytesFrom([csr]), (der) => {
      const body = Buffer.from(Buffer.from(der).toString('base64'), 'latin1');
      let decoded: Uint8Array | undefined;
      returnsOrThrows([AppError], () => { decoded = decodePkcs10Body(body); }, der);
      if (decoded) returnsOrThrows([PkiError], () => parseCsr(decoded!), der);
    }));
  });

  it('ok/decodeBase64Body accepts any JSON-ish value without throwing anything but AppError', async () => {
    await fuzz(fc.property(fc.anything(), (body) => returnsOrThrows([AppError], () => decodeBase64Body(body), body)));
  });

  it('fail/bytes after the PKCS#10 are MALFORMED_CSR', async () => {
    await fuzz(fc.property(fc.uint8Array({ minLength: 1, maxLength: 16 }), (tail) => {
      try {
        decodePkcs10Body(Buffer.from(Buffer.concat([csr, tail]).toString('base64')));
      } catch (err) {
        return err instanceof AppError && err.code === 'MALFORMED_CSR';
      }
      return false;
    }), 200);
  });
});
