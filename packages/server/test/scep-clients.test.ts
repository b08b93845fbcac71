import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pemDecode, pemEncode } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, startEnrollmentServer, tool, type EnrollmentServer } from './enrollment-fixtures.ts';

/**
 * SCEP (RFC 8894) with the real clients Debian ships (REAL-PEERS.md): micromdm's `scepclient`
 * (package scep) and certmonger (daemon without D-Bus + getcert, which runs its scep-submit
 * helper), against /scep/{slug} on the plain HTTP listener, with a static and a one-time challenge.
 */
const SCEP_SUBMIT = '/usr/lib/certmonger/scep-submit';
const STATIC = 'scep static challenge 1';

describe('SCEP with scepclient and certmonger', () => {
  let env: EnrollmentServer;
  let url: string;
  let raFingerprint: string;
  const run = (cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) => tool(cmd, args, opts.cwd ?? env.work, opts.env ? { env: opts.env } : {});
  const countCertificates = async () => Number((await env.server.core.db.selectFrom('certificates').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);

  /** scepclient in a directory of its own (it leaves csr.pem and self.pem in its working directory and reuses them). */
  async function scepclient(name: string, challenge: string, extra: string[] = []) {
    const dir = path.join(env.work, name);
    await fs.mkdir(dir, { recursive: true });
    return run('scepclient', ['-server-url', url, '-challenge', challenge, '-private-key', 'key.pem', '-certificate', 'cert.pem', '-cn', `${name}.example.test`, '-ca-fingerprint', raFingerprint, '-debug', ...extra], { cwd: dir });
  }
  const subjectOf = async (file: string) => (await run('openssl', ['x509', '-in', file, '-noout', '-subject', '-issuer'])).out.trim();

  beforeAll(async () => {
    await requireTool('/usr/bin/scepclient', 'scep');
    await requireTool(SCEP_SUBMIT, 'certmonger');
    env = await startEnrollmentServer('scep');
    url = `${env.server.httpUrl}/scep/default-tls`;
    const res = await env.api('PUT', '/api/v1/applications/default/enrollment/default-tls', { scep: { enabled: true, challenge: 'static', staticChallenge: STATIC } });
    expect(res.status).toBe(200);
    const ra = (res.json['scep'] as { raCertificate: string }).raCertificate;
    raFingerprint = createHash('sha256').update(pemDecode(ra, 'CERTIFICATE')).digest('hex');
  }, 180_000);
  afterAll(async () => env?.close());

  it('ok/scep-submit -c reads the capabilities (GetCACaps)', async () => {
    const r = await run(SCEP_SUBMIT, ['-u', url, '-c']);
    expect([r.code, r.out.trim().split('\n')]).toEqual([0, ['POSTPKIOperation', 'SHA-256', 'SHA-512', 'AES', 'DES3', 'SCEPStandard', 'Renewal']]);
  });

  it('ok/scep-submit -C reads the RA certificate then the CA chain (GetCACert)', async () => {
    const r = await run(SCEP_SUBMIT, ['-u', url, '-C']);
    const certs = r.out.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
    await Promise.all(certs.map((pem, i) => fs.writeFile(path.join(env.work, `getcacert-${i}.pem`), `${pem}\n`)));
    const subjects = await Promise.all(certs.map((_, i) => subjectOf(`getcacert-${i}.pem`)));
    // scep-submit prints the RA first, then the CA certificates in its own order.
    const [ra, ...cas] = subjects.map((s) => s.split('\n')[0]);
    expect([r.code, ra, cas.sort()]).toEqual([0, 'subject=O = Certbridge, CN = default-tls SCEP RA', [
      'subject=O = Certbridge, CN = Certbridge Intermediate CA', 'subject=O = Certbridge, CN = Certbridge Root CA',
    ]]);
  });

  it('ok/scepclient enrolls with the static challenge', async () => {
    const r = await scepclient('mdm1', STATIC);
    expect([r.code, /pkiStatus=SUCCESS/.test(r.out)]).toEqual([0, true]);
    expect(await subjectOf('mdm1/cert.pem')).toBe('subject=C = US, O = scep-client, OU = MDM, CN = mdm1.example.test\nissuer=O = Certbridge, CN = Certbridge Intermediate CA');
  });

  it('ok/scepclient renews with its current certificate and key (signed by the issued certificate)', async () => {
    const dir = path.join(env.work, 'mdm1');
    const before = await run('openssl', ['x509', '-in', 'cert.pem', '-noout', '-serial'], { cwd: dir });
    await fs.rm(path.join(dir, 'csr.pem'), { force: true });
    const r = await scepclient('mdm1', STATIC);
    const renewed = await env.server.core.db.selectFrom('certificates').select('renewed_from_id').orderBy('created_at', 'desc').limit(1).executeTakeFirstOrThrow();
    const after = await run('openssl', ['x509', '-in', 'cert.pem', '-noout', '-serial'], { cwd: dir });
    expect([r.code, /pkiStatus=SUCCESS/.test(r.out), after.out !== before.out, /signer_cn=mdm1.example.test/.test(r.out), renewed.renewed_from_id !== null]).toEqual([0, true, true, true, true]);
  });

  it('fail/scepclient with a wrong challenge gets FAILURE badRequest and nothing is issued', async () => {
    const before = await countCertificates();
    const r = await scepclient('wrongchallenge', 'not the challenge');
    expect([/failInfo: badRequest \(2\)/.test(r.out), await countCertificates()]).toEqual([true, before]);
  });

  it('ok/certmonger enrolls with a one-time challenge; the same challenge is refused the second time', async () => {
    const dyn = await env.api('PUT', '/api/v1/applications/default/enrollment/default-tls', { scep: { enabled: true, challenge: 'dynamic', challengeTtlSeconds: 600 } });
    expect(dyn.status).toBe(200);
    const issued = await env.api('POST', '/api/v1/applications/default/enrollment/default-tls/scep/challenges');
    expect(issued.status).toBe(201);
    const challenge = String(issued.json['challenge']);
    const cm = path.join(env.work, 'certmonger');
    for (const d of ['cfg', 'req', 'cas', 'local', 'tmp']) await fs.mkdir(path.join(cm, d), { recursive: true });
    const certs = (await run(SCEP_SUBMIT, ['-u', url, '-C'])).out.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
    await fs.writeFile(path.join(cm, 'ra.pem'), `${certs[0]}\n`);
    const intermediate = await env.server.core.repos.cas.find('Certbridge Intermediate CA');
    await fs.writeFile(path.join(cm, 'ca.pem'), pemEncode('CERTIFICATE', intermediate!.certificate_der!));
    // The daemon without D-Bus runs the getcert script (-c) and exits with it: nothing is left running.
    await fs.writeFile(path.join(cm, 'enroll.sh'), [
      `getcert add-scep-ca -c certbridge -u '${url}' -r '${cm}/ra.pem' -N '${cm}/ca.pem' > '${cm}/add.out' 2>&1`,
      `getcert request -c certbridge -k '${cm}/key.pem' -f '${cm}/cert.pem' -N CN=cm1.example.test -D cm1.example.test -L '${challenge}' -w -v > '${cm}/request.out' 2>&1`,
      `getcert list > '${cm}/list.out' 2>&1`,
    ].join('\n') + '\n');
    const cmEnv = {
      CERTMONGER_CONFIG_DIR: `${cm}/cfg`, CERTMONGER_REQUESTS_DIR: `${cm}/req`, CERTMONGER_CAS_DIR: `${cm}/cas`, CERTMONGER_LOCAL_CA_DIR: `${cm}/local`,
      CERTMONGER_TMPDIR: `${cm}/tmp`, CERTMONGER_SYSTEM_LOCK_FILE: `${cm}/lock`, CERTMONGER_PVT_ADDRESS: `unix:path=${cm}/sock`,
    };
    await run('certmonger', ['-n', '-L', '-P', `${cm}/sock`, '-c', `sh ${cm}/enroll.sh`], { env: cmEnv });
    const list = await fs.readFile(path.join(cm, 'list.out'), 'utf8');
    expect([/status: MONITORING/.test(list), await subjectOf(`${cm}/cert.pem`)]).toEqual([true, 'subject=CN = cm1.example.test\nissuer=O = Certbridge, CN = Certbridge Intermediate CA']);
    const before = await countCertificates();
    const reused = await scepclient('reused', challenge);
    expect([/failInfo: badRequest \(2\)/.test(reused.out), await countCertificates()]).toEqual([true, before]);
  });
});
