import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { issuerHashes, ocspErrorResponse, parseOcspRequest, signOcspResponse, type OcspCertStatus } from './ocsp.ts';
import { parseCertificate } from './certificate.ts';
import { EKU } from './oids.ts';
import { parseDn } from './names.ts';
import type { Signer } from './issuer.ts';
import { AFTER, BEFORE, makeIssued, makeRoot, openssl, opensslAsync, workdir } from './test-helpers.ts';

const wd = workdir();
const root = makeRoot('EC-P256');
const delegated = makeIssued(root, 'EC-P256', { subject: parseDn('CN=Test OCSP Responder'), keyUsages: ['digitalSignature'], extendedKeyUsages: [EKU.ocspSigning],
  extraExtensions: [{ oid: '1.3.6.1.5.5.7.48.1.5', critical: false, valueDer: new Uint8Array([5, 0]) }] });
const leaf = makeIssued(root, 'EC-P256');
const leafSerial = parseCertificate(leaf.certificateDer).serialHex;
const revokedAt = new Date(Math.floor(BEFORE.getTime() / 1000) * 1000);

/** What the tiny responder answers for the next request. */
let answer: { kind: 'sign'; responder: Signer; chain?: Uint8Array[]; status: OcspCertStatus } | { kind: 'error'; status: 'unauthorized' | 'malformedRequest' };
let server: Server;
let url = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Uint8Array;
      try {
        const parsed = parseOcspRequest(new Uint8Array(Buffer.concat(chunks)));
        if (answer.kind === 'error') {
          body = ocspErrorResponse(answer.status);
        } else {
          const cur = answer;
          body = signOcspResponse({
            responder: cur.responder, responderChain: cur.chain, producedAt: new Date(), nonce: parsed.nonce,
            responses: parsed.certIds.map((certId) => {
              const h = issuerHashes(root.certificateDer, certId.hashAlgorithmOid);
              const ours = h !== null && Buffer.from(h.nameHash).equals(certId.issuerNameHash) && Buffer.from(h.keyHash).equals(certId.issuerKeyHash);
              return { certId, status: ours && certId.serialHex === leafSerial ? cur.status : { status: 'unknown' as const }, thisUpdate: BEFORE, nextUpdate: AFTER };
            }),
          });
        }
      } catch {
        body = ocspErrorResponse('malformedRequest');
      }
      res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ocsp`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  wd.cleanup();
});

const rootFile = wd.write('root.pem', root.pem);
const leafFile = wd.write('leaf.pem', leaf.pem);
const otherFile = wd.write('other.pem', makeIssued(makeRoot('EC-P256', 'Other Root'), 'EC-P256').pem);

/** The lines of `openssl ocsp` output that carry the verdict. */
async function ask(extra: string[] = [], cert = leafFile): Promise<string[]> {
  // Digest options such as -sha256 apply to the -cert options after them.
  const res = await opensslAsync(['ocsp', ...extra, '-issuer', rootFile, '-cert', cert, '-url', url, '-CAfile', rootFile]);
  // stdout and stderr interleave differently between runs: compare sorted verdict lines.
  return res.out.split('\n').map((l) => l.trim()).filter((l) => /verify|Verify|: (good|revoked|unknown)|Reason|WARNING|Error/.test(l))
    .map((l) => l.replace(/^[0-9A-F]+:error:[0-9A-F]+:/, 'error:').replace(/:\.\.\/crypto.*$/, ''))
    .filter((l, i, all) => all.indexOf(l) === i).sort();
}

describe('ocsp with openssl ocsp -url', () => {
  it.each<[string, OcspCertStatus, string[]]>([
    ['ok/good', { status: 'good' }, [`${leafFile}: good`, 'Response verify OK']],
    ['ok/revoked with reason', { status: 'revoked', revokedAt, reason: 'keyCompromise' }, [`${leafFile}: revoked`, 'Reason: keyCompromise', 'Response verify OK']],
    ['ok/revoked without reason', { status: 'revoked', revokedAt }, [`${leafFile}: revoked`, 'Response verify OK']],
  ])('%s, signed by the CA, nonce echoed', async (_n, status, expected) => {
    answer = { kind: 'sign', responder: root, status };
    expect(await ask()).toEqual(expected);
  });

  it('ok/unknown for a certificate of another issuer', async () => {
    answer = { kind: 'sign', responder: root, status: { status: 'good' } };
    expect(await ask([], otherFile)).toEqual([`${otherFile}: unknown`, 'Response verify OK']);
  });

  it('ok/delegated responder certificate included in certs', async () => {
    answer = { kind: 'sign', responder: delegated, chain: [delegated.certificateDer], status: { status: 'good' } };
    expect(await ask()).toEqual([`${leafFile}: good`, 'Response verify OK']);
  });

  it('ok/SHA-256 CertID', async () => {
    answer = { kind: 'sign', responder: root, status: { status: 'good' } };
    expect(await ask(['-sha256'])).toEqual([`${leafFile}: good`, 'Response verify OK']);
  });

  it('fail/responder key not trusted when the delegated certificate is left out', async () => {
    answer = { kind: 'sign', responder: delegated, status: { status: 'good' } };
    expect(await ask()).toEqual([`${leafFile}: good`, 'Response Verify Failure', 'error:OCSP routines:OCSP_basic_verify:signer certificate not found']);
  });

  it.each([['unauthorized', 'Responder Error: unauthorized (6)'], ['malformedRequest', 'Responder Error: malformedrequest (1)']] as const)(
    'fail/error status %s', async (status, expected) => {
      answer = { kind: 'error', status };
      expect(await ask()).toEqual([expected]);
    });
});

describe('ocsp parts', () => {
  it('ok/request from openssl parses; issuer hashes match', () => {
    const reqFile = wd.path('req.der');
    expect(openssl(['ocsp', '-issuer', rootFile, '-cert', leafFile, '-reqout', reqFile]).status).toBe(0);
    const req = parseOcspRequest(new Uint8Array(wd.read('req.der')));
    const h = issuerHashes(root.certificateDer, '1.3.14.3.2.26');
    const id = req.certIds[0];
    expect([req.certIds.length, id?.serialHex, Buffer.from(h?.nameHash ?? []).equals(id?.issuerNameHash ?? new Uint8Array()),
      Buffer.from(h?.keyHash ?? []).equals(id?.issuerKeyHash ?? new Uint8Array()), req.nonce?.length]).toEqual([1, leafSerial, true, true, 18]);
  });

  it('ok/request without nonce', () => {
    const reqFile = wd.path('req-nn.der');
    openssl(['ocsp', '-issuer', rootFile, '-cert', leafFile, '-no_nonce', '-reqout', reqFile]);
    expect(parseOcspRequest(new Uint8Array(wd.read('req-nn.der'))).nonce).toBeUndefined();
  });

  it.each([['1.2.840.113549.2.5', null], ['2.16.840.1.101.3.4.2.3', 64]] as const)('ok/issuerHashes for %s', (oid, len) => {
    expect(issuerHashes(root.certificateDer, oid)?.nameHash.length ?? null).toBe(len);
  });
});
