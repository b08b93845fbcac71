/**
 * A throwaway MIT Kerberos realm on 127.0.0.1 (Debian `krb5-kdc krb5-admin-server krb5-user`),
 * created in a temp dir per test file: KDC database, user principals with passwords, and an
 * `HTTP/<host>` service key in a keytab.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';

const run = promisify(execFile);

export interface TestKdc {
  realm: string;
  dir: string;
  krb5Config: string;
  keytab: string;
  /** Environment for KDC tools and for processes that should use this realm. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export function kdcAvailable(): boolean {
  return ['/usr/sbin/krb5kdc', '/usr/sbin/kdb5_util', '/usr/sbin/kadmin.local', '/usr/bin/kinit'].every((p) => existsSync(p));
}

export async function startKdc(options: { realm?: string; users: Record<string, string>; serviceHost: string; userKeytabs?: string[] }): Promise<TestKdc> {
  const realm = options.realm ?? 'CORP.EXAMPLE.TEST';
  const dir = await mkdtemp(path.join(tmpdir(), 'adcs-client-kdc-'));
  const port = await freePort();
  const krb5Config = path.join(dir, 'krb5.conf');
  const kdcConf = path.join(dir, 'kdc.conf');
  const keytab = path.join(dir, 'http.keytab');
  await writeFile(krb5Config, `[libdefaults]
  default_realm = ${realm}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  rdns = false
  dns_canonicalize_hostname = false
  udp_preference_limit = 1
[realms]
  ${realm} = {
    kdc = 127.0.0.1:${port}
  }
`);
  await writeFile(kdcConf, `[kdcdefaults]
  kdc_listen = 127.0.0.1:${port}
  kdc_tcp_listen = 127.0.0.1:${port}
[realms]
  ${realm} = {
    database_name = ${dir}/principal
    key_stash_file = ${dir}/stash
    acl_file = ${dir}/kadm5.acl
    kadmind_listen = 127.0.0.1:${await freePort()}
    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
  }
[logging]
  kdc = FILE:${dir}/kdc.log
`);
  await writeFile(path.join(dir, 'kadm5.acl'), '');
  const env = { ...process.env, KRB5_CONFIG: krb5Config, KRB5_KDC_PROFILE: kdcConf };
  await run('/usr/sbin/kdb5_util', ['create', '-s', '-r', realm, '-P', 'master-password-for-tests'], { env });
  const kadmin = (query: string): Promise<unknown> => run('/usr/sbin/kadmin.local', ['-r', realm, '-q', query], { env });
  for (const [user, password] of Object.entries(options.users)) await kadmin(`addprinc -pw ${password} ${user}`);
  await kadmin(`addprinc -randkey HTTP/${options.serviceHost}`);
  await kadmin(`ktadd -k ${keytab} HTTP/${options.serviceHost}`);
  // -norandkey keeps the user's password valid alongside the exported key.
  for (const user of options.userKeytabs ?? []) await kadmin(`ktadd -norandkey -k ${path.join(dir, `${user}.keytab`)} ${user}`);
  const child: ChildProcess = spawn('/usr/sbin/krb5kdc', ['-n'], { env, stdio: 'ignore' });
  // Wait on the KDC log, not on the port (a bare connect would count as a request).
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`krb5kdc exited ${child.exitCode}`);
    const log = existsSync(path.join(dir, 'kdc.log')) ? await readFile(path.join(dir, 'kdc.log'), 'utf8') : '';
    if (log.includes('commencing operation')) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  return { realm, dir, krb5Config, keytab, env, stop };
}
