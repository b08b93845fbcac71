/**
 * A throwaway MIT Kerberos realm on loopback (Debian krb5-kdc, krb5-admin-server, krb5-user):
 * KDC on free ports in a temp dir, principals for users and HTTP/<host>, a keytab, and kinit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { run, tempDir, type CmdResult } from './helpers.ts';

export interface TestRealm {
  realm: string;
  dir: string;
  keytab: string;
  env: NodeJS.ProcessEnv;
  kinit(user: string, password: string, ccache: string): Promise<CmdResult>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function must(p: Promise<CmdResult>, what: string): Promise<CmdResult> {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr || r.stdout}`);
  return r;
}

function stdinRun(cmd: string, args: string[], input: string, env: NodeJS.ProcessEnv): Promise<CmdResult> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    // A tool that exits before reading all of its input makes the write fail with EPIPE; its exit
    // code and stderr already say what happened, so the write error must not crash the test process.
    p.stdin.on('error', () => undefined);
    p.stdin.end(input);
  });
}

export async function startRealm(realm: string, host: string, users: Array<[string, string]>): Promise<TestRealm> {
  const tmp = await tempDir();
  const [kdcPort, kadmPort] = [await freePort(), await freePort()];
  const d = tmp.dir;
  const kdcConf = await tmp.file(
    'kdc.conf',
    `[kdcdefaults]
 kdc_listen = 127.0.0.1:${kdcPort}
 kdc_tcp_listen = 127.0.0.1:${kdcPort}
[realms]
 ${realm} = {
  database_name = ${d}/principal
  admin_keytab = FILE:${d}/kadm5.keytab
  acl_file = ${d}/kadm5.acl
  key_stash_file = ${d}/stash
  kdc_listen = 127.0.0.1:${kdcPort}
  kdc_tcp_listen = 127.0.0.1:${kdcPort}
  kadmind_listen = 127.0.0.1:${kadmPort}
  supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
 }
[logging]
 kdc = FILE:${d}/kdc.log
`,
  );
  const krb5Conf = await tmp.file(
    'krb5.conf',
    `[libdefaults]
 default_realm = ${realm}
 dns_lookup_kdc = false
 dns_lookup_realm = false
 rdns = false
 dns_canonicalize_hostname = false
 udp_preference_limit = 1
[realms]
 ${realm} = {
  kdc = 127.0.0.1:${kdcPort}
 }
[domain_realm]
 ${host} = ${realm}
`,
  );
  await tmp.file('kadm5.acl', '');
  const env = { ...process.env, KRB5_CONFIG: krb5Conf, KRB5_KDC_PROFILE: kdcConf };
  await must(run('kdb5_util', ['create', '-s', '-r', realm, '-P', 'master-Passw0rd'], env), 'kdb5_util create');
  const kadmin = (q: string) => must(run('kadmin.local', ['-r', realm, '-q', q], env), `kadmin.local ${q}`);
  for (const [u, p] of users) await kadmin(`addprinc -pw ${p} ${u}`);
  await kadmin(`addprinc -randkey HTTP/${host}`);
  const keytab = `${d}/http.keytab`;
  await kadmin(`ktadd -k ${keytab} HTTP/${host}`);
  const kdc: ChildProcess = spawn('krb5kdc', ['-n', '-r', realm], { env, stdio: 'ignore' });
  const kinit = (user: string, password: string, ccache: string) =>
    stdinRun('kinit', [user], `${password}\n`, { ...env, KRB5CCNAME: `FILE:${ccache}` });
  // The KDC is ready when a kinit succeeds; a bare port probe says nothing about its database.
  let ready: CmdResult = { code: 1, stdout: '', stderr: 'not tried' };
  for (let i = 0; i < 50 && ready.code !== 0; i++) {
    ready = await kinit(users[0][0], users[0][1], `${d}/probe.cc`);
    if (ready.code !== 0) await new Promise((r) => setTimeout(r, 100));
  }
  if (ready.code !== 0) {
    kdc.kill();
    throw new Error(`KDC did not come up: ${ready.stderr}`);
  }
  return {
    realm,
    dir: d,
    keytab,
    env,
    kinit,
    stop: async () => {
      kdc.kill();
      await tmp.cleanup();
    },
  };
}
