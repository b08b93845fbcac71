/**
 * Kerberos tickets in a private credential cache: `kinit` (MIT krb5-user) with the password on
 * stdin, or `-k -t <keytab>`, into `KRB5CCNAME=FILE:<temp dir>/ccache`, so connections never
 * share or disturb the host's default cache. GSSAPI reads KRB5CCNAME / KRB5_CONFIG from the
 * process environment when a context is created, so every use of the cache runs inside
 * {@link withKrb5Env}, which serialises those moments across the process.
 *
 * A keytab given as bytes (a server keeps it sealed in its database) and a krb5.conf built from
 * `kdcs` are written into the same private directory (mode 0700, files 0600) and removed with it,
 * so two connections to two realms in one process each see only their own realm.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AdcsError } from '../errors.ts';

export interface TicketOptions {
  /** `user` (the realm is appended) or `user@REALM`. */
  username: string;
  password: string;
  /** Kerberos realm (upper-cased), e.g. `CORP.EXAMPLE.TEST`. */
  realm: string;
  /** A keytab file path, or the keytab itself. */
  keytab?: string | Uint8Array;
  krb5Config?: string;
  /** KDCs of `realm` (`host` or `host:port`): a private krb5.conf naming only them replaces the system's. */
  kdcs?: readonly string[];
  /** The service host, mapped to `realm` in the private krb5.conf (no DNS guess for its realm). */
  serviceHost?: string;
  kinitPath?: string;
  /** Tickets older than this are renewed before use (default 4 h, below AD's 10 h lifetime). */
  maxAgeMs?: number;
}

let envChain: Promise<unknown> = Promise.resolve();

/** Runs `fn` with the given environment variables set, one caller at a time. */
export function withKrb5Env<T>(env: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const run = envChain.then(async () => {
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    try {
      return await fn();
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  });
  envChain = run.catch(() => undefined);
  return run;
}

export class TicketCache {
  private dir?: string;
  private acquiredAt = 0;

  constructor(private readonly options: TicketOptions) {}

  get principal(): string {
    return this.options.username.includes('@') ? this.options.username : `${this.options.username}@${this.options.realm.toUpperCase()}`;
  }

  /** Environment that points GSSAPI at this cache (and at the configured or private krb5.conf). */
  async env(): Promise<Record<string, string | undefined>> {
    const dir = await this.directory();
    const krb5Config = this.options.kdcs?.length ? path.join(dir, 'krb5.conf') : this.options.krb5Config;
    return { KRB5CCNAME: `FILE:${path.join(dir, 'ccache')}`, ...(krb5Config ? { KRB5_CONFIG: krb5Config } : {}) };
  }

  /** The private directory, created once with the files the options ask for (mkdtemp makes it 0700). */
  private async directory(): Promise<string> {
    if (this.dir) return this.dir;
    const dir = await mkdtemp(path.join(tmpdir(), 'certbridge-krb5-'));
    const { keytab, kdcs } = this.options;
    if (keytab instanceof Uint8Array) await writeFile(path.join(dir, 'client.keytab'), keytab, { mode: 0o600 });
    if (kdcs?.length) await writeFile(path.join(dir, 'krb5.conf'), krb5Conf(this.options.realm, kdcs, this.options.serviceHost), { mode: 0o600 });
    this.dir = dir;
    return dir;
  }

  private keytabPath(dir: string): string | undefined {
    const { keytab } = this.options;
    return keytab instanceof Uint8Array ? path.join(dir, 'client.keytab') : keytab;
  }

  /** Ensures a fresh TGT is in the cache; `force` re-runs kinit (e.g. after an expired ticket). */
  async ensure(force = false): Promise<void> {
    if (!force && this.acquiredAt > 0 && Date.now() - this.acquiredAt < (this.options.maxAgeMs ?? 4 * 3_600_000)) return;
    const env = { ...process.env, ...(await this.env()) };
    const keytab = this.keytabPath(await this.directory());
    const args = keytab ? ['-k', '-t', keytab, this.principal] : [this.principal];
    await new Promise<void>((resolve, reject) => {
      const child = execFile(this.options.kinitPath ?? 'kinit', args, { env, timeout: 30_000 }, (error, _stdout, stderr) => {
        if (!error) return resolve();
        reject(kinitError(this.principal, String(stderr).trim() || error.message, error));
      });
      // kinit that fails before it reads the password (no KDC, unknown realm) closes its stdin:
      // the write then fails with EPIPE, which must not become an uncaught error; its exit says why.
      child.stdin?.on('error', () => {});
      child.stdin?.end(keytab ? '' : `${this.options.password}\n`);
    });
    this.acquiredAt = Date.now();
  }

  async destroy(): Promise<void> {
    const dir = this.dir;
    this.dir = undefined;
    this.acquiredAt = 0;
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

const KRB5_SAFE = /^[A-Za-z0-9._:[\]-]+$/;

/** A krb5.conf for one realm: its KDCs only, no DNS lookups, and the service host mapped to it. */
export function krb5Conf(realm: string, kdcs: readonly string[], serviceHost?: string): string {
  const r = realm.toUpperCase();
  // Each value lands in a profile file: a newline or brace would add settings of its own.
  for (const v of [r, ...kdcs, ...(serviceHost ? [serviceHost] : [])]) if (!KRB5_SAFE.test(v)) throw new TypeError(`${JSON.stringify(v)} cannot be written into krb5.conf`);
  return [
    '[libdefaults]', `  default_realm = ${r}`, '  dns_lookup_kdc = false', '  dns_lookup_realm = false', '  rdns = false', '  dns_canonicalize_hostname = false',
    '[realms]', `  ${r} = {`, ...kdcs.map((k) => `    kdc = ${k}`), '  }',
    ...(serviceHost ? ['[domain_realm]', `  ${serviceHost.toLowerCase()} = ${r}`] : []),
    '',
  ].join('\n');
}

function kinitError(principal: string, text: string, cause: unknown): AdcsError {
  if (/ENOENT/.test(text)) return new AdcsError('ADCS_AUTH_FAILED', 'kinit not found: install the MIT Kerberos client (Debian krb5-user)', { cause });
  if (/Cannot contact any KDC|Cannot find KDC|Connection refused/i.test(text)) {
    return new AdcsError('ADCS_UNAVAILABLE', `no Kerberos KDC reachable for ${principal}: ${text}`, { cause, causeCode: 'KDC_UNREACHABLE' });
  }
  return new AdcsError('ADCS_AUTH_FAILED', `Kerberos ticket for ${principal} refused: ${text}`, { cause });
}
