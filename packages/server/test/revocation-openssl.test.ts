import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { freePort, tool } from './enrollment-fixtures.ts';

/**
 * CRL and OCSP checked by real relying-party code: curl issues and revokes over HTTPS (trusting
 * only `<data>/ca.pem`), and OpenSSL's `ocsp` client and `verify -crl_check` judge the answers
 * of our responder. PGlite (the default `npm start` engine).
 */
describe('CRL and OCSP against openssl and curl', () => {
  let server: RunningServer;
  let dataDir: string;
  let work: string;
  let httpUrl: string;
  let caId: string;
  let token: string;

  const curl = async (args: string[]) => {
    const r = await tool('curl', ['-sS', '--fail-with-body', '--cacert', path.join(dataDir, 'ca.pem'), '-H', `Authorization: Bearer ${token}`, ...args], work);
    if (r.code !== 0) throw new Error(`curl ${args.join(' ')} failed: ${r.out}`);
    return r.out;
  };
  const api = (p: string) => `${server.httpsUrl}${p}`;

  /** New key + CSR with openssl, issued over HTTPS with curl; writes `<name>.pem`, returns the certificate id. */
  async function issue(name: string): Promise<string> {
    await tool('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-subj', `/CN=${name}.example.test`, '-out', `${name}.csr`], work);
    const csr = await fs.readFile(path.join(work, `${name}.csr`), 'utf8');
    await fs.writeFile(path.join(work, `${name}.json`), JSON.stringify({ profile: 'default-tls', csr }));
    const body = JSON.parse(await curl(['-H', 'Content-Type: application/json', '--data-binary', `@${name}.json`, api('/api/v1/applications/default/certificates')]));
    await fs.writeFile(path.join(work, `${name}.pem`), body.certificate.certificate);
    caId = body.certificate.caId;
    return body.certificate.id;
  }
  const revoke = (id: string, reason: string) => curl(['-H', 'Content-Type: application/json', '--data-binary', JSON.stringify({ reason }), api(`/api/v1/certificates/${id}/revoke`)]);
  const ocsp = async (target: string[]) => {
    const r = await tool('openssl', ['ocsp', '-issuer', 'issuer.pem', ...target, '-url', `${httpUrl}/ocsp/${caId}`, '-CAfile', path.join(dataDir, 'ca.pem'), '-timeout', '20'], work);
    return verdict(r.out);
  };
  const verdict = (out: string) => ({
    verified: /Response verify OK/.test(out),
    status: /^\S+: (good|revoked|unknown)$/m.exec(out)?.[1] ?? out,
    reason: /Reason: (\S+)/.exec(out)?.[1] ?? null,
  });
  /** Downloads the current CRL with curl (plain HTTP, as a relying party) and returns its number. */
  const fetchCrl = async (): Promise<number> => {
    await curl(['-o', 'crl.der', `${httpUrl}/crl/${caId}.crl`]);
    await tool('openssl', ['crl', '-inform', 'DER', '-in', 'crl.der', '-out', 'crl.pem'], work);
    const r = await tool('openssl', ['crl', '-in', 'crl.pem', '-noout', '-crlnumber'], work);
    const hex = /crlNumber=0x([0-9A-Fa-f]+)/.exec(r.out)?.[1];
    if (!hex) throw new Error(`no crlNumber in: ${r.out}`);
    return parseInt(hex, 16);
  };
  /** `OK`, or OpenSSL's reason line (`error 23 at 0 depth lookup: certificate revoked`). */
  const verifyWithCrl = async (leaf: string) => {
    const { out } = await tool('openssl', ['verify', '-crl_check', '-CAfile', path.join(dataDir, 'ca.pem'), '-untrusted', 'issuer.pem', '-CRLfile', 'crl.pem', leaf], work);
    return /^error \d+ at \d+ depth lookup: .*$/m.exec(out)?.[0] ?? (new RegExp(`^${leaf}: OK$`, 'm').test(out) ? 'OK' : out);
  };

  let leafId: string;
  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-ocsp-data-'));
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-ocsp-work-'));
    const port = await freePort();
    server = await startServer(loadConfig({
      CERTBRIDGE_DATA_DIR: dataDir, CERTBRIDGE_HTTP_PORT: String(port), CERTBRIDGE_HTTPS_PORT: '0',
      CERTBRIDGE_PKI_URL: `http://127.0.0.1:${port}`, CERTBRIDGE_LOG_LEVEL: 'silent',
    }));
    httpUrl = server.httpUrl;
    token = server.bootstrap.adminToken!;
    leafId = await issue('leaf');
    // The issuing CA's certificate, as relying parties fetch it (AIA caIssuers, DER).
    await curl(['-o', 'issuer.der', `${httpUrl}/ca/${caId}.crt`]);
    await tool('openssl', ['x509', '-inform', 'DER', '-in', 'issuer.der', '-out', 'issuer.pem'], work);
  });
  afterAll(async () => {
    await server?.close();
    await fs.rm(dataDir, { recursive: true, force: true });
    await fs.rm(work, { recursive: true, force: true });
  });

  it('ok/the certificate names our OCSP responder and CRL on the HTTP listener', async () => {
    const ocspUri = (await tool('openssl', ['x509', '-in', 'leaf.pem', '-noout', '-ocsp_uri'], work)).out.trim();
    const cdp = (await tool('openssl', ['x509', '-in', 'leaf.pem', '-noout', '-ext', 'crlDistributionPoints'], work)).out;
    expect([ocspUri, /URI:(\S+)/.exec(cdp)?.[1]]).toEqual([`${httpUrl}/ocsp/${caId}`, `${httpUrl}/crl/${caId}.crl`]);
  });

  it('ok/openssl ocsp says good for a fresh certificate (signature verified)', async () => {
    expect(await ocsp(['-cert', 'leaf.pem'])).toEqual({ verified: true, status: 'good', reason: null });
  });

  it('ok/openssl ocsp says unknown for a serial the CA never issued', async () => {
    expect(await ocsp(['-serial', '0x7a3c0ffee0ddba11'])).toEqual({ verified: true, status: 'unknown', reason: null });
  });

  it('ok/openssl verify -crl_check accepts the certificate before revocation', async () => {
    await fetchCrl();
    expect(await verifyWithCrl('leaf.pem')).toBe('OK');
  });

  it('ok/after revocation via the API openssl ocsp says revoked with the reason', async () => {
    await revoke(leafId, 'keyCompromise');
    expect(await ocsp(['-cert', 'leaf.pem'])).toEqual({ verified: true, status: 'revoked', reason: 'keyCompromise' });
  });

  it('fail/openssl verify -crl_check with the downloaded CRL says certificate revoked', async () => {
    await fetchCrl();
    expect(await verifyWithCrl('leaf.pem')).toBe('error 23 at 0 depth lookup: certificate revoked');
  });

  it('ok/the CRL number increases by one after each revocation', async () => {
    const numbers = [await fetchCrl()];
    for (const [name, reason] of [['second', 'superseded'], ['third', 'cessationOfOperation']] as const) {
      await revoke(await issue(name), reason);
      numbers.push(await fetchCrl());
    }
    expect(numbers.map((n) => n - numbers[0]!)).toEqual([0, 1, 2]);
  });

  it('ok/the OCSP GET form (base64 request in the URL, RFC 6960 A.1) answers revoked too', async () => {
    await tool('openssl', ['ocsp', '-issuer', 'issuer.pem', '-cert', 'leaf.pem', '-no_nonce', '-reqout', 'req.der'], work);
    const b64 = (await fs.readFile(path.join(work, 'req.der'))).toString('base64');
    await curl(['-o', 'resp.der', `${httpUrl}/ocsp/${caId}/${encodeURIComponent(b64)}`]);
    const r = await tool('openssl', ['ocsp', '-respin', 'resp.der', '-issuer', 'issuer.pem', '-cert', 'leaf.pem', '-CAfile', path.join(dataDir, 'ca.pem')], work);
    expect(verdict(r.out)).toEqual({ verified: true, status: 'revoked', reason: 'keyCompromise' });
  });
});
