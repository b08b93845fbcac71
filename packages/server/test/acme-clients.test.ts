import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseCertificate, pemDecodeAll } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { startTestDnsServer, type TestDnsServer } from './acme-dns-server.ts';
import { freePort, tool } from './enrollment-fixtures.ts';

/**
 * Unmodified ACME clients from Debian (lego, certbot) against a running Certbridge over HTTPS on
 * loopback, trusting only `<data>/ca.pem`. Names resolve to 127.0.0.1 through a DNS server the
 * test starts (CERTBRIDGE_ACME_DNS_RESOLVER); the validator connects to the client's own
 * challenge server on CERTBRIDGE_ACME_HTTP01_PORT / CERTBRIDGE_ACME_TLSALPN01_PORT.
 */
const REQUIRED = ['lego', 'certbot', 'dehydrated'];

/** Runs a client with extra environment variables; never throws (see enrollment-fixtures `tool`). */
const run = (cmd: string, args: string[], env: Record<string, string>, cwd: string) => tool(cmd, args, cwd, { env, timeoutMs: 120_000 });

describe('ACME with real clients (lego, certbot, dehydrated)', () => {
  let server: RunningServer;
  let dns: TestDnsServer;
  let dataDir: string;
  let work: string;
  let directoryUrl: string;
  let http01Port: number;
  let alpnPort: number;

  beforeAll(async () => {
    for (const client of REQUIRED) {
      const found = await run('sh', ['-c', `command -v ${client}`], {}, os.tmpdir());
      if (found.code !== 0) throw new Error(`${client} is not installed: apt-get install -y lego certbot dehydrated`);
    }
    dns = await startTestDnsServer();
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-acme-data-'));
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-acme-work-'));
    const httpsPort = await freePort();
    http01Port = await freePort();
    alpnPort = await freePort();
    server = await startServer(loadConfig({
      CERTBRIDGE_DATA_DIR: dataDir, CERTBRIDGE_HTTP_PORT: '0', CERTBRIDGE_HTTPS_PORT: String(httpsPort),
      CERTBRIDGE_PUBLIC_URL: `https://127.0.0.1:${httpsPort}`, CERTBRIDGE_LOG_LEVEL: 'silent',
      CERTBRIDGE_ACME_HTTP01_PORT: String(http01Port), CERTBRIDGE_ACME_TLSALPN01_PORT: String(alpnPort), CERTBRIDGE_ACME_DNS_RESOLVER: dns.address,
    }));
    directoryUrl = `${server.httpsUrl}/acme/default-tls/directory`;
  }, 180_000);
  afterAll(async () => {
    await server?.close();
    await dns?.close();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  const lego = (args: string[], extraEnv: Record<string, string> = {}) => run('lego', [
    '--server', directoryUrl, '--email', 'ops@example.test', '--accept-tos', '--key-type', 'ec256', '--path', path.join(work, 'lego'), ...args,
  ], { LEGO_CA_CERTIFICATES: path.join(dataDir, 'ca.pem'), ...extraEnv }, work);
  const leafOf = async (file: string) => parseCertificate(pemDecodeAll(await fs.readFile(file, 'utf8'))[0]!);
  const statusOf = async (serialHex: string) =>
    (await server.core.db.selectFrom('certificates').select(['status', 'revocation_reason']).where('serial_hex', '=', serialHex).executeTakeFirstOrThrow());

  it('ok/lego http-01: run issues, renew issues a new certificate, revoke revokes it', async () => {
    const domain = 'lego-http.acme.test';
    const http = ['--domains', domain, '--http', '--http.port', `127.0.0.1:${http01Port}`];
    const first = await lego([...http, 'run']);
    expect(first.code, first.out).toBe(0);
    const crt = path.join(work, 'lego', 'certificates', `${domain}.crt`);
    const issued = await leafOf(crt);
    expect(issued.sans).toEqual([{ type: 'dns', value: domain }]);
    const renewed = await lego([...http, 'renew', '--days', '99999', '--no-random-sleep']);
    expect(renewed.code, renewed.out).toBe(0);
    const second = await leafOf(crt);
    expect(second.serialHex).not.toBe(issued.serialHex);
    const revoked = await lego(['--domains', domain, 'revoke', '--reason', '4']);
    expect(revoked.code, revoked.out).toBe(0);
    expect(await statusOf(second.serialHex)).toEqual({ status: 'revoked', revocation_reason: 'superseded' });
  }, 120_000);

  it('ok/lego tls-alpn-01 issues', async () => {
    const domain = 'lego-alpn.acme.test';
    const res = await lego(['--domains', domain, '--tls', '--tls.port', `127.0.0.1:${alpnPort}`, 'run']);
    expect(res.code, res.out).toBe(0);
    expect((await leafOf(path.join(work, 'lego', 'certificates', `${domain}.crt`))).sans).toEqual([{ type: 'dns', value: domain }]);
  }, 120_000);

  it('ok/lego dns-01 through an exec hook that sets TXT records on the test DNS server, wildcard included', async () => {
    const hook = path.join(work, 'dns-hook.sh');
    const records = path.join(work, 'txt');
    await fs.writeFile(hook, `#!/bin/sh\n[ "$1" = present ] && echo "$2 $3" >> ${records}\nexit 0\n`, { mode: 0o755 });
    // The hook appends "fqdn value"; the test copies the lines into the DNS server as they appear.
    const poll = setInterval(() => {
      fs.readFile(records, 'utf8').then((text) => {
        for (const line of text.split('\n').filter(Boolean)) {
          const [fqdn, value] = line.split(' ') as [string, string];
          const name = fqdn.replace(/\.$/, '').toLowerCase();
          const list = dns.txt.get(name) ?? [];
          if (!list.includes(value)) dns.txt.set(name, [...list, value]);
        }
      }).catch(() => undefined);
    }, 50);
    try {
      const res = await lego(['--domains', 'dns.acme.test', '--domains', '*.dns.acme.test', '--dns', 'exec', '--dns.resolvers', dns.address, '--dns.disable-cp', 'run'],
        { EXEC_PATH: hook, EXEC_SEQUENCE_INTERVAL: '1', EXEC_PROPAGATION_TIMEOUT: '30', EXEC_POLLING_INTERVAL: '1' });
      expect(res.code, res.out).toBe(0);
      const leaf = await leafOf(path.join(work, 'lego', 'certificates', 'dns.acme.test.crt'));
      expect(leaf.sans.map((s) => s.value).sort()).toEqual(['*.dns.acme.test', 'dns.acme.test']);
    } finally {
      clearInterval(poll);
    }
  }, 120_000);

  it('ok/certbot standalone http-01 issues, then revokes with the certificate', async () => {
    const domain = 'certbot.acme.test';
    const dirs = ['--config-dir', path.join(work, 'cb', 'c'), '--work-dir', path.join(work, 'cb', 'w'), '--logs-dir', path.join(work, 'cb', 'l')];
    const env = { REQUESTS_CA_BUNDLE: path.join(dataDir, 'ca.pem') };
    const res = await run('/usr/bin/certbot', ['certonly', '--non-interactive', '--agree-tos', '--register-unsafely-without-email', '--server', directoryUrl, ...dirs,
      '--standalone', '--http-01-address', '127.0.0.1', '--http-01-port', String(http01Port), '-d', domain], env, work);
    expect(res.code, res.out).toBe(0);
    const certPath = path.join(work, 'cb', 'c', 'live', domain, 'cert.pem');
    const leaf = await leafOf(certPath);
    expect(leaf.sans).toEqual([{ type: 'dns', value: domain }]);
    const rev = await run('/usr/bin/certbot', ['revoke', '--non-interactive', '--server', directoryUrl, ...dirs, '--cert-path', certPath, '--reason', 'keycompromise', '--no-delete-after-revoke'], env, work);
    expect(rev.code, rev.out).toBe(0);
    expect(await statusOf(leaf.serialHex)).toEqual({ status: 'revoked', revocation_reason: 'keyCompromise' });
  }, 120_000);

  it('ok/certbot with external account binding from the API binds the account to the key', async () => {
    const key = await fetch(`${server.httpUrl}/api/v1/applications/default/acme/eab-keys`, {
      method: 'POST', headers: { authorization: `Bearer ${server.bootstrap.adminToken}`, 'content-type': 'application/json' }, body: '{}',
    }).then((r) => r.json() as Promise<{ keyId: string; hmacKey: string }>);
    const domain = 'certbot-eab.acme.test';
    const dirs = ['--config-dir', path.join(work, 'cbe', 'c'), '--work-dir', path.join(work, 'cbe', 'w'), '--logs-dir', path.join(work, 'cbe', 'l')];
    const res = await run('/usr/bin/certbot', ['certonly', '--non-interactive', '--agree-tos', '--register-unsafely-without-email', '--server', directoryUrl, ...dirs,
      `--eab-kid=${key.keyId}`, `--eab-hmac-key=${key.hmacKey}`, '--standalone', '--http-01-address', '127.0.0.1', '--http-01-port', String(http01Port), '-d', domain],
    { REQUESTS_CA_BUNDLE: path.join(dataDir, 'ca.pem') }, work);
    expect(res.code, res.out).toBe(0);
    const bound = await server.core.db.withTables<{ acme_eab_keys: { id: string; account_id: string | null } }>()
      .selectFrom('acme_eab_keys').select('account_id').where('id', '=', key.keyId).executeTakeFirstOrThrow();
    expect(bound.account_id).toMatch(/^[0-9a-f-]{36}$/);
  }, 120_000);

  it('ok/dehydrated http-01: register, issue, forced renewal, revoke', async () => {
    const base = path.join(work, 'dh');
    const wellKnown = path.join(base, 'wk');
    await fs.mkdir(wellKnown, { recursive: true });
    const config = path.join(base, 'config');
    await fs.writeFile(config, [
      `CA="${directoryUrl}"`, `CURL_OPTS="--cacert ${path.join(dataDir, 'ca.pem')}"`, `BASEDIR="${base}"`, `WELLKNOWN="${wellKnown}"`,
      'CHALLENGETYPE="http-01"', 'KEY_ALGO="prime256v1"', 'KEYSIZE="2048"', 'CONTACT_EMAIL="ops@example.test"', '',
    ].join('\n'));
    // dehydrated only writes the token files: this server publishes them where the validator looks.
    const web = http.createServer((req, res) => {
      const token = (req.url ?? '').split('/').pop() ?? '';
      fs.readFile(path.join(wellKnown, token.replace(/[^A-Za-z0-9_-]/g, '')), 'utf8').then((body) => res.writeHead(200).end(body), () => res.writeHead(404).end());
    });
    await new Promise<void>((resolve) => web.listen(http01Port, '127.0.0.1', resolve));
    try {
      const domain = 'dehydrated.acme.test';
      const dh = (args: string[]) => run('dehydrated', ['-f', config, ...args], {}, base);
      const reg = await dh(['--register', '--accept-terms']);
      expect(reg.code, reg.out).toBe(0);
      const first = await dh(['-c', '-d', domain]);
      expect(first.code, first.out).toBe(0);
      const certFile = path.join(base, 'certs', domain, 'cert.pem');
      const issued = await leafOf(certFile);
      expect(issued.sans).toEqual([{ type: 'dns', value: domain }]);
      const renewed = await dh(['-c', '-d', domain, '--force']);
      expect(renewed.code, renewed.out).toBe(0);
      const second = await leafOf(certFile);
      expect(second.serialHex).not.toBe(issued.serialHex);
      const revoked = await dh(['-r', certFile]);
      expect(revoked.code, revoked.out).toBe(0);
      expect((await statusOf(second.serialHex)).status).toBe('revoked');
    } finally {
      await new Promise((r) => web.close(r));
    }
  }, 240_000);
});
