import fs from 'node:fs/promises';
import path from 'node:path';
import { importPrivateKey, keyMatchesCertificate, parseCertificate, parseCertsOnlyPkcs7 } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnrollmentServer, tool, type EnrollmentServer } from './enrollment-fixtures.ts';

/**
 * EST (RFC 7030) driven by its real peers on Debian, curl + openssl (REAL-PEERS.md): PKCS#10 in,
 * base64 PKCS#7 out, Basic and TLS client certificate authentication, on the HTTPS listener.
 */
describe('EST with curl and openssl', () => {
  let env: EnrollmentServer;
  let est: string;
  const run = (cmd: string, args: string[], input?: string | Buffer) => tool(cmd, args, env.work, input === undefined ? {} : { input });
  const caFile = () => path.join(env.dataDir, 'ca.pem');
  const BASIC = ['-u', 'device:est secret 1234'];

  /** curl against EST: the final HTTP status, headers (lower case) and body. */
  async function curl(args: string[], input?: string | Buffer) {
    const r = await run('curl', ['-sS', '-D', '-', '--cacert', caFile(), ...args], input);
    const raw = r.stdout.toString('latin1');
    const headEnd = raw.search(/\r\n\r\n(?!HTTP\/)/);
    const head = raw.slice(0, headEnd);
    const statuses = [...head.matchAll(/^HTTP\/[\d.]+ (\d{3})/gm)].map((m) => Number(m[1]));
    return { code: r.code, status: statuses.at(-1) ?? 0, headers: head.toLowerCase(), body: raw.slice(headEnd + 4), out: r.out };
  }

  async function newCsr(name: string, cn: string): Promise<Buffer> {
    const r = await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-subj', `/CN=${cn}`, '-outform', 'DER', '-out', `${name}.csr.der`]);
    if (r.code !== 0) throw new Error(r.out);
    return fs.readFile(path.join(env.work, `${name}.csr.der`));
  }

  const post = (url: string, csr: Buffer, auth: string[]) =>
    curl([...auth, '-H', 'Content-Type: application/pkcs10', '--data-binary', '@-', url], csr.toString('base64'));
  const enroll = (op: string, csr: Buffer, auth: string[]) => post(`${est}/${op}`, csr, auth);

  /** Writes the certificates of a base64 PKCS#7 answer to `<name>.pem` with openssl pkcs7 -print_certs; returns the first one's subject. */
  async function saveCerts(base64Body: string, name: string): Promise<string> {
    await fs.writeFile(path.join(env.work, `${name}.p7.der`), Buffer.from(base64Body, 'base64'));
    const r = await run('openssl', ['pkcs7', '-inform', 'DER', '-in', `${name}.p7.der`, '-print_certs', '-out', `${name}.pem`]);
    if (r.code !== 0) throw new Error(r.out);
    return (await run('openssl', ['x509', '-in', `${name}.pem`, '-noout', '-subject'])).out.trim();
  }
  const serialOf = async (name: string) => (await run('openssl', ['x509', '-in', `${name}.pem`, '-noout', '-serial'])).out.trim().replace(/^serial=/, '').toLowerCase();

  beforeAll(async () => {
    env = await startEnrollmentServer('est');
    est = `${env.server.httpsUrl}/.well-known/est/default-tls`;
    const res = await env.api('PUT', '/api/v1/applications/default/enrollment/default-tls', { est: { enabled: true, auth: 'basic', username: 'device', password: 'est secret 1234', default: true } });
    expect(res.status).toBe(200);
  }, 180_000);
  afterAll(async () => env?.close());

  it('ok/cacerts returns the profile CA chain as base64 PKCS#7', async () => {
    const r = await curl([`${est}/cacerts`]);
    expect(r.status).toBe(200);
    const subjects = parseCertsOnlyPkcs7(Buffer.from(r.body, 'base64')).map((c) => parseCertificate(c).subjectText);
    expect(subjects).toEqual(['CN=Certbridge Intermediate CA, O=Certbridge', 'CN=Certbridge Root CA, O=Certbridge']);
  });

  it('ok/csrattrs names the profile key (EC P-256) and ecdsa-with-SHA256, as openssl asn1parse reads it', async () => {
    const r = await curl([`${est}/csrattrs`]);
    await fs.writeFile(path.join(env.work, 'attrs.der'), Buffer.from(r.body, 'base64'));
    const parsed = await run('openssl', ['asn1parse', '-inform', 'DER', '-in', 'attrs.der']);
    expect([r.status, [...parsed.out.matchAll(/OBJECT\s+:(\S+)/g)].map((m) => m[1])]).toEqual([200, ['id-ecPublicKey', 'prime256v1', 'ecdsa-with-SHA256']]);
  });

  it('ok/simpleenroll with Basic auth returns a certificate openssl reads', async () => {
    const r = await enroll('simpleenroll', await newCsr('dev1', 'dev1.example.test'), BASIC);
    expect([r.status, r.headers.includes('content-type: application/pkcs7-mime; smime-type=certs-only')]).toEqual([200, true]);
    expect(await saveCerts(r.body, 'dev1')).toBe('subject=CN = dev1.example.test');
  });

  it('ok/the same PKCS#10 sent again is answered with the same certificate (RFC 7030 4.2.3 retry)', async () => {
    const csr = await newCsr('again', 'again.example.test');
    await saveCerts((await enroll('simpleenroll', csr, BASIC)).body, 'again1');
    await saveCerts((await enroll('simpleenroll', csr, BASIC)).body, 'again2');
    expect(await serialOf('again2')).toBe(await serialOf('again1'));
  });

  it('ok/the default endpoint /.well-known/est/simpleenroll serves the default profile', async () => {
    const r = await post(`${env.server.httpsUrl}/.well-known/est/simpleenroll`, await newCsr('dflt', 'default.example.test'), BASIC);
    expect([r.status, await saveCerts(r.body, 'dflt')]).toEqual([200, 'subject=CN = default.example.test']);
  });

  it('fail/simpleenroll without credentials is 401 with a Basic challenge', async () => {
    const r = await enroll('simpleenroll', await newCsr('anon', 'anon.example.test'), []);
    expect([r.status, /www-authenticate: basic realm="certbridge-est"/.test(r.headers), r.body]).toEqual([401, true, 'HTTP Basic credentials are required\n']);
  });

  it('fail/simpleenroll with a wrong password is 401 and nothing is issued', async () => {
    const before = await env.server.core.db.selectFrom('orders').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    const r = await enroll('simpleenroll', await newCsr('wrong', 'wrong.example.test'), ['-u', 'device:not the secret']);
    const after = await env.server.core.db.selectFrom('orders').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect([r.status, r.body, after.n]).toEqual([401, 'the EST username or password is wrong\n', before.n]);
  });

  it('fail/a body that is not base64 is 400 with a text reason', async () => {
    const r = await curl([...BASIC, '-H', 'Content-Type: application/pkcs10', '--data-binary', '@-', `${est}/simpleenroll`], '%%% not base64 %%%');
    expect([r.status, r.headers.includes('content-type: text/plain'), r.body]).toEqual([400, true, 'the request body is not base64 (RFC 7030 section 4.2.1)\n']);
  });

  it('fail/a PKCS#10 that is base64 garbage is 400 MALFORMED (never 500)', async () => {
    const r = await curl([...BASIC, '-H', 'Content-Type: application/pkcs10', '--data-binary', '@-', `${est}/simpleenroll`], Buffer.from('0123456789abcdef0123').toString('base64'));
    expect([r.status, r.body.startsWith('the CSR cannot be read')]).toEqual([400, true]);
  });

  it('ok/simplereenroll with the current certificate as TLS client certificate keeps the subject', async () => {
    await saveCerts((await enroll('simpleenroll', await newCsr('renew', 'renew.example.test'), BASIC)).body, 'renew');
    const csr = await newCsr('renew2', 'renew.example.test');
    const r = await enroll('simplereenroll', csr, ['--cert', 'renew.pem', '--key', 'renew.key']);
    expect([r.status, await saveCerts(r.body, 'renew2')]).toEqual([200, 'subject=CN = renew.example.test']);
    const serial = await serialOf('renew2');
    const row = await env.server.core.db.selectFrom('certificates').select(['renewed_from_id']).where('serial_hex', '=', serial).executeTakeFirstOrThrow();
    expect(row.renewed_from_id).not.toBeNull();
  });

  it('fail/simplereenroll without a TLS client certificate is 401', async () => {
    const r = await enroll('simplereenroll', await newCsr('nocert', 'nocert.example.test'), BASIC);
    expect([r.status, r.body]).toEqual([401, 'a TLS client certificate is required\n']);
  });

  it('fail/simplereenroll with a revoked certificate is 403', async () => {
    await saveCerts((await enroll('simpleenroll', await newCsr('rev', 'rev.example.test'), BASIC)).body, 'rev');
    const serial = await serialOf('rev');
    const list = await env.api('GET', `/api/v1/certificates?serial=${serial}`);
    const id = (list.json['items'] as { id: string }[])[0]!.id;
    expect((await env.api('POST', `/api/v1/certificates/${id}/revoke`, { reason: 'keyCompromise' })).status).toBe(200);
    const r = await enroll('simplereenroll', await newCsr('rev2', 'rev.example.test'), ['--cert', 'rev.pem', '--key', 'rev.key']);
    expect([r.status, r.body]).toEqual([403, 'the client certificate is revoked\n']);
  });

  it('fail/simplereenroll with a certificate from another CA is 403', async () => {
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'self.key', '-subj', '/CN=self.example.test', '-days', '2', '-out', 'self.pem']);
    const r = await enroll('simplereenroll', await newCsr('self2', 'self.example.test'), ['--cert', 'self.pem', '--key', 'self.key']);
    expect([r.status, r.body]).toEqual([403, 'the client certificate was not issued by the CA of this profile\n']);
  });

  it('fail/simplereenroll changing the subject is 400', async () => {
    const r = await enroll('simplereenroll', await newCsr('other', 'other.example.test'), ['--cert', 'renew.pem', '--key', 'renew.key']);
    expect([r.status, r.body]).toEqual([400, 'a re-enrollment must keep the subject (CN=renew.example.test) and subjectAltName of the current certificate\n']);
  });

  it('ok/serverkeygen returns a multipart PKCS#8 key and the certificate for that key', async () => {
    const r = await enroll('serverkeygen', await newCsr('kg', 'keygen.example.test'), BASIC);
    const boundary = /content-type: multipart\/mixed; boundary=(\S+)/.exec(r.headers)?.[1];
    expect([r.status, typeof boundary]).toEqual([200, 'string']);
    const parts = r.body.split(`--${boundary}`).slice(1, -1).map((p) => {
      const [head, body] = p.split('\r\n\r\n') as [string, string];
      return { type: /Content-Type: ([^\r\n]+)/i.exec(head)?.[1], der: Buffer.from(body.replace(/\s/g, ''), 'base64') };
    });
    expect(parts.map((p) => p.type)).toEqual(['application/pkcs8', 'application/pkcs7-mime; smime-type=certs-only']);
    const [cert] = parseCertsOnlyPkcs7(parts[1]!.der);
    await fs.writeFile(path.join(env.work, 'kg.p8.der'), parts[0]!.der);
    const opensslKey = await run('openssl', ['pkey', '-inform', 'DER', '-in', 'kg.p8.der', '-noout', '-text']);
    expect([opensslKey.code, keyMatchesCertificate(importPrivateKey(parts[0]!.der), cert!), parseCertificate(cert!).subjectText]).toEqual([0, true, 'CN=keygen.example.test']);
  });

  it('fail/EST is not served on the plain HTTP listener', async () => {
    const r = await tool('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', `${env.server.httpUrl}/.well-known/est/default-tls/cacerts`], env.work);
    expect(r.out).toBe('404');
  });

  it('fail/a profile without EST settings is 404', async () => {
    const r = await curl([`${env.server.httpsUrl}/.well-known/est/no-such-profile/cacerts`]);
    expect([r.status, r.body]).toEqual([404, 'EST endpoint "no-such-profile" was not found\n']);
  });
});
