/**
 * A real NTLM HTTP server nobody here wrote: Apache httpd + mod_auth_gssapi + gss-ntlmssp
 * (Debian `apache2 libapache2-mod-auth-gssapi gss-ntlmssp`), TLS on 127.0.0.1, started in a
 * temp ServerRoot. gss-ntlmssp verifies NTLMv2 against the users file named by NTLM_USER_FILE
 * (`DOMAIN:user:password` lines) and is stricter than Windows about message layout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.ts';
import type { TestCertificate } from './pki.ts';

export interface ApacheNtlm {
  url: string;
  port: number;
  stop(): Promise<void>;
  errorLog(): Promise<string>;
}

const MODULES = '/usr/lib/apache2/modules';

export function apacheAvailable(): boolean {
  return existsSync('/usr/sbin/apache2') && existsSync(`${MODULES}/mod_auth_gssapi.so`)
    && existsSync('/usr/lib/x86_64-linux-gnu/gssntlmssp/gssntlmssp.so');
}

/**
 * Optional reverse proxy behind the NTLM check: Apache verifies NTLMv2 itself, then forwards
 * `/certsrv/` to a certsrv emulator with a fixed `Authorization` (the emulator's Basic login),
 * so enrollment pages come from a real certsrv flow while a foreign NTLM server authenticates.
 */
export interface ApacheProxy {
  /** `https://localhost:<port>` of the emulator. */
  target: string;
  /** PEM of the CA that issued the emulator's TLS certificate (Apache verifies it). */
  targetCaPem: string;
  authorization: string;
}

export async function startApacheNtlm(options: { server: TestCertificate; users: string[]; proxy?: ApacheProxy }): Promise<ApacheNtlm> {
  const root = await mkdtemp(path.join(tmpdir(), 'adcs-client-apache-'));
  const port = await freePort();
  // Workers run as nobody: the document tree must be traversable (the TLS key is read by the
  // parent as root before it drops privileges).
  await chmod(root, 0o755);
  await mkdir(path.join(root, 'htdocs', 'certsrv'), { recursive: true });
  await writeFile(path.join(root, 'htdocs', 'certsrv', 'index.html'), '<HTML><Body>certsrv ok</Body></HTML>\n');
  await writeFile(path.join(root, 'server.pem'), options.server.certPem);
  await writeFile(path.join(root, 'server.key'), options.server.keyPem, { mode: 0o600 });
  // gss-ntlmssp reads the users file in the worker (user nobody) at each handshake.
  await writeFile(path.join(root, 'ntlm-users'), `${options.users.join('\n')}\n`, { mode: 0o644 });
  const proxy = options.proxy;
  if (proxy) await writeFile(path.join(root, 'target-ca.pem'), proxy.targetCaPem, { mode: 0o644 });
  const proxyConf = proxy ? `LoadModule proxy_module ${MODULES}/mod_proxy.so
LoadModule proxy_http_module ${MODULES}/mod_proxy_http.so
LoadModule headers_module ${MODULES}/mod_headers.so
SSLProxyEngine on
SSLProxyVerify require
SSLProxyVerifyDepth 5
SSLProxyCheckPeerName on
SSLProxyCACertificateFile "${root}/target-ca.pem"
ProxyPass /certsrv/ ${proxy.target}/certsrv/
ProxyPassReverse /certsrv/ ${proxy.target}/certsrv/
# Runs after mod_auth_gssapi accepted the NTLM login: the emulator sees only its own login.
RequestHeader set Authorization "${proxy.authorization}"
` : '';
  const conf = `ServerRoot "${root}"
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
PidFile "${root}/httpd.pid"
ErrorLog "${root}/error.log"
LogLevel notice auth_gssapi:debug
LoadModule mpm_event_module ${MODULES}/mod_mpm_event.so
LoadModule authn_core_module ${MODULES}/mod_authn_core.so
LoadModule authz_core_module ${MODULES}/mod_authz_core.so
LoadModule authz_user_module ${MODULES}/mod_authz_user.so
LoadModule auth_gssapi_module ${MODULES}/mod_auth_gssapi.so
LoadModule ssl_module ${MODULES}/mod_ssl.so
LoadModule dir_module ${MODULES}/mod_dir.so
LoadModule mime_module ${MODULES}/mod_mime.so
User nobody
Group nogroup
TypesConfig /dev/null
DirectoryIndex index.html
KeepAlive On
MaxKeepAliveRequests 1000
DocumentRoot "${root}/htdocs"
SSLEngine on
SSLCertificateFile "${root}/server.pem"
SSLCertificateKeyFile "${root}/server.key"
${proxyConf}<Directory />
  AllowOverride None
</Directory>
<Location />
  AuthType GSSAPI
  AuthName "certsrv"
  GssapiAllowedMech ntlmssp
  GssapiConnectionBound On
  GssapiBasicAuth Off
  Require valid-user
</Location>
`;
  await writeFile(path.join(root, 'httpd.conf'), conf);
  const child: ChildProcess = spawn('setsid', ['/usr/sbin/apache2', '-d', root, '-f', path.join(root, 'httpd.conf'), '-DFOREGROUND'], {
    env: { ...process.env, NTLM_USER_FILE: path.join(root, 'ntlm-users'), APACHE_RUN_DIR: root, APACHE_LOCK_DIR: root },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
  const errorLog = async (): Promise<string> => (existsSync(path.join(root, 'error.log')) ? readFile(path.join(root, 'error.log'), 'utf8') : '');
  // Wait on the log line, not on the port: apache writes it once the listener is ready.
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`apache2 exited ${child.exitCode}: ${output}${await errorLog()}`);
    if ((await errorLog()).includes('resuming normal operations')) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.pid !== undefined) {
      const exited = new Promise((r) => child.once('exit', r));
      // setsid made apache a group leader: signal its whole group, which is ours alone.
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
      await exited;
    }
    await rm(root, { recursive: true, force: true });
  };
  return { url: `https://127.0.0.1:${port}`, port, stop, errorLog };
}
