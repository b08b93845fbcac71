import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AdcsError, NtlmContext, parseCaArchive, parseDlFields, parseRetrievePage, parseSubmitPage, parseTemplates } from '@certbridge/adcs-client';
import { buildCertsOnlyPkcs7 } from '@certbridge/pki';
import { decodeChallenge } from '../../adcs-client/src/auth/ntlm/messages.ts';
import { parseAvPairs } from '../../adcs-client/src/auth/ntlm/av-pairs.ts';
import { certificatePemFromBody, certificatesFromPkcs7 } from '../../adcs-client/src/pages/certificates.ts';
import { createNtlmAcceptor } from '../../adcs-sim/src/auth/ntlm/acceptor.ts';
import { decodeAuthenticate, decodeAvPairs, decodeNegotiate } from '../../adcs-sim/src/auth/ntlm/messages.ts';
import { parseConfig } from '../../adcs-sim/src/config.ts';
import { makeRoot } from '../../pki/src/test-helpers.ts';
import { bytesFrom, fuzz, returnsOrThrows, textFrom } from './fuzz-arbitraries.ts';

/**
 * fast-check over the ADCS wire: certsrv pages as the client reads them (captured Windows pages
 * plus the shapes the parsers look for), the NTLM messages in both directions (client decodes
 * CHALLENGE; the emulator decodes NEGOTIATE and AUTHENTICATE), and certnew.cer / certnew.p7b
 * bodies. The client's page and body parsers return a value or throw AdcsError; its NTLM decoder
 * throws plain Error (wrapped into AdcsError by the transport); the emulator's decoders return
 * undefined on bad input and never throw.
 */
const CAPTURES = path.resolve(import.meta.dirname, '../../adcs-client/testdata/adcs-captures');
const capture = (name: string): string => readFileSync(path.join(CAPTURES, name), 'utf8').replace(/\{\{\s*\.\w+\s*\}\}/g, '4711');
const PAGES = [
  capture('nokia-adcs-issuer_certnew.cer-errorpage.tmpl'),
  capture('nokia-adcs-issuer_certcarc.asp.tmpl'),
  capture('nokia-adcs-issuer_iis-401-unauthorized.tmpl'),
  '<html><body>Certificate Issued<a href="certnew.cer?ReqID=17&amp;Enc=b64">Download</a> Your Request Id is 17.</body></html>',
  '<html><body><P>Certificate Pending</P> Your certificate request has been received. Your Request Id is 18. Taken Under Submission</body></html>',
  '<html><body>Denied by Policy Module  0x80094012, The permissions on the certificate template do not allow the current user to enroll. Request Id: 19</body></html>',
  '<select id="lbCertTemplateID"><option value="E;WebServer;Web Server;1;1.3.6.1.4.1.311.21.8.1;2048;0">Web Server</option><option value="O;User;User">User</option></select>',
  '<dl><dt>Disposition message:</dt><dd>Denied by CORP\\admin</dd><dt>Result:</dt><dd>The request was denied 0x80094014 (-2146877420)</dd></dl>',
];

const config = parseConfig({ adminToken: 'fuzz-admin-token-0123456789', users: [{ name: 'alice', password: 'Passw0rd!' }] });
const acceptor = createNtlmAcceptor(config);
const client = new NtlmContext({ username: 'CORP\\alice', password: 'Passw0rd!' });
const negotiate = client.negotiate();
const handshake = acceptor.challenge(negotiate)!;
const authenticate = client.authenticate(handshake.message);
const TLS_END_POINT = Buffer.alloc(32, 7);
const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

const root = makeRoot('EC-P256');

describe('certsrv page parsers under fast-check', () => {
  const parsers: [string, (html: string) => unknown][] = [
    ['parseSubmitPage', (h) => parseSubmitPage(h, 200)],
    ['parseRetrievePage', (h) => parseRetrievePage(h, 17, 200)],
    ['parseTemplates', parseTemplates],
    ['parseCaArchive', parseCaArchive],
    ['parseDlFields', parseDlFields],
  ];
  it.each(parsers)('ok/%s returns or throws AdcsError', async (_name, parse) => {
    await fuzz(fc.property(textFrom(PAGES), (html) => returnsOrThrows([AdcsError], () => parse(html), html)));
  });

  it('ok/certnew.cer and certnew.p7b bodies return PEM or throw AdcsError', async () => {
    const p7 = buildCertsOnlyPkcs7([root.certificateDer]);
    const samples = [root.certificateDer, p7, new Uint8Array(Buffer.from(Buffer.from(p7).toString('base64')))];
    await fuzz(fc.property(bytesFrom(samples), (body) => {
      returnsOrThrows([AdcsError], () => certificatePemFromBody(buf(body), 'certnew.cer'), body);
      returnsOrThrows([AdcsError], () => certificatesFromPkcs7(buf(body), 'certnew.p7b'), body);
    }));
  });
});

describe('NTLM messages under fast-check', () => {
  it('ok/the valid handshake authenticates (the fuzzed samples are real messages)', () => {
    expect(acceptor.authenticate(authenticate, handshake.state, TLS_END_POINT)?.user.name).toBe('alice');
  });

  it('ok/client: CHALLENGE_MESSAGE decoding and the AUTHENTICATE answer return or throw a plain Error', async () => {
    await fuzz(fc.property(bytesFrom([handshake.message]), (msg) => {
      returnsOrThrows([Error], () => decodeChallenge(buf(msg)), msg, true);
      returnsOrThrows([Error], () => new NtlmContext({ username: 'alice', password: 'p' }).authenticate(buf(msg)), msg, true);
    }));
  });

  it('ok/client: TargetInfo AV_PAIR lists return or throw a plain Error', async () => {
    const targetInfo = decodeChallenge(handshake.message).targetInfo;
    await fuzz(fc.property(bytesFrom([targetInfo]), (data) => returnsOrThrows([Error], () => parseAvPairs(buf(data)), data, true)));
  });

  it('ok/emulator: NEGOTIATE, AUTHENTICATE and AV_PAIR decoding never throw; a damaged AUTHENTICATE never logs in', async () => {
    await fuzz(fc.property(bytesFrom([negotiate, authenticate]), (msg) => {
      const b = buf(msg);
      returnsOrThrows([], () => decodeNegotiate(b), msg);
      returnsOrThrows([], () => decodeAuthenticate(b), msg);
      returnsOrThrows([], () => decodeAvPairs(b), msg);
      returnsOrThrows([], () => acceptor.challenge(b), msg);
      let user: string | undefined;
      returnsOrThrows([], () => { user = acceptor.authenticate(b, handshake.state, TLS_END_POINT)?.user.name; }, msg);
      // Only the untouched message (or one differing in bytes NTLM does not protect) may log in.
      if (user !== undefined) expect(b.subarray(0, 64).equals(authenticate.subarray(0, 64)) || b.equals(authenticate)).toBe(true);
    }));
  });
});
