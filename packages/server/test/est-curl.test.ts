import fs from 'node:fs/promises';
import path from 'node:path';
import { parseCertificate, parseCertsOnlyPkcs7 } from '@certbridge/pki';
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

  /** curl against EST: returns the HTTP status, headers and body (text). */
  async function curl(args: string[], input?: string | Buffer) {
    const r = await run('curl', ['-sS', '-D', '-', '--cacert', caFile(), ...args], input);
    const raw = r.stdout.toString('latin1');
    const split = raw.indexOf('\r\n\r\n');
    const head = raw.slice(0, split);
    const statuses = [...head.matchAll(/^HTTP\/[\d.]+ (\d{3})/gm)].map((m) => Number(m[1]));
    return { code: r.code, status: statuses.at(-1) ?? 0, headers: head.toLowerCase(), body: raw.slice(split + 4), out: r.out };
  }

  async function newCsr(name: string, cn: string): Promise<Buffer> {
    const r = await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-subj', `/CN=${cn}`, '-outform', 'DER', '-out', `${name}.csr.der`]);
    if (r.code !== 0) throw new Error(r.out);
    return fs.readFile(path.join(env.work, `${name}.csr.der`));
  }

  const enroll = (op: string, csr: Buffer, auth: string[]) =>
    curl([...auth, '-H', 'Content-Type: application/pkcs10', '--data-binary', '@-', `${est}/${op}`], csr.toString('base64'));

  /** The certificates of a base64 PKCS#7 answer, as openssl pkcs7 -print_certs reads them. */
  async function printCerts(base64Body: string, name: string): Promise<string> {
    await fs.writeFile(path.join(env.work, `${name}.p7.der`), Buffer.from(base64Body, 'base64'));
    const r = await run('openssl', ['pkcs7', '-inform', 'DER', '-in', `${name}.p7.der`, '-print_certs', '-out', `${name}.pem`]);
    if (r.code !== 0) throw new Error(r.out);
    return fs.readFile(path.join(env.work, `${name}.pem`), 'utf8');
  }

  beforeAll(async () => {
    env = await startEnrollmentServer('est');
    est = `${env.server.httpsUrl}/.well-known/est/default-tls`;
    const res = await env.api('PUT', '/api/v1/applications/default/enrollment/default-tls', { est: { enabled: true, auth: 'basic', username: 'device', password: 'est secret 1234', default: true } });
    expect(res.status).toBe(200);
  });
  afterAll(async () => env?.close());

  it('ok/cacerts returns the profile CA chain as base64 PKCS#7', async () => {
    const r = await curl([`${est}/cacerts`]);
    expect(r.status).toBe(200);
    const subjects = parseCertsOnlyPkcs7(Buffer.from(r.body, 'base64')).map((c) => parseCertificate(c).subjectText);
    expect(subjects).toEqual(['CN=Certbridge Intermediate CA, O=Certbridge', 'CN=Certbridge Root CA, O=Certbridge']);
  });

  it('ok/simpleenroll with Basic auth returns a certificate openssl reads', async () => {
    const r = await enroll('simpleenroll', await newCsr('dev1', 'dev1.example.test'), ['-u', 'device:est secret 1234']);
    expect(r.status).toBe(200);
    const pem = await printCerts(r.body, 'dev1');
    const info = await run('openssl', ['x509', '-in', 'dev1.pem', '-noout', '-subject']);
    expect([pem.includes('BEGIN CERTIFICATE'), info.out.trim()]).toEqual([true, 'subject=CN = dev1.example.test']);
  });
});
