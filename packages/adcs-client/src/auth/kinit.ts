/**
 * Kerberos tickets in a private credential cache: `kinit` (MIT krb5-user) with the password on
 * stdin, or `-k -t <keytab>`, into `KRB5CCNAME=FILE:<temp dir>/ccache`, so connections never
 * share or disturb the host's default cache. GSSAPI reads KRB5CCNAME / KRB5_CONFIG from the
 * process environment when a context is created, so every use of the cache runs inside
 * {@link withKrb5Env}, which serialises those moments across the process.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AdcsError } from '../errors.ts';

export interface TicketOptions {
  /** `user` (the realm is appended) or `user@REALM`. */
  username: string;
  password: string;
  /** Kerberos realm (upper-cased), e.g. `CORP.EXAMPLE.TEST`. */
  realm: string;
  keytab?: string;
  krb5Config?: string;
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

  /** Environment that points GSSAPI at this cache (and at the configured krb5.conf). */
  async env(): Promise<Record<string, string | undefined>> {
    this.dir ??= await mkdtemp(path.join(tmpdir(), 'certbridge-krb5-'));
    return { KRB5CCNAME: `FILE:${path.join(this.dir, 'ccache')}`, ...(this.options.krb5Config ? { KRB5_CONFIG: this.options.krb5Config } : {}) };
  }

  /** Ensures a fresh TGT is in the cache; `force` re-runs kinit (e.g. after an expired ticket). */
  async ensure(force = false): Promise<void> {
    if (!force && this.acquiredAt > 0 && Date.now() - this.acquiredAt < (this.options.maxAgeMs ?? 4 * 3_600_000)) return;
    const env = { ...process.env, ...(await this.env()) };
    const args = this.options.keytab ? ['-k', '-t', this.options.keytab, this.principal] : [this.principal];
    await new Promise<void>((resolve, reject) => {
      const child = execFile(this.options.kinitPath ?? 'kinit', args, { env, timeout: 30_000 }, (error, _stdout, stderr) => {
        if (!error) return resolve();
        reject(kinitError(this.principal, String(stderr).trim() || error.message, error));
      });
      child.stdin?.end(this.options.keytab ? '' : `${this.options.password}\n`);
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

function kinitError(principal: string, text: string, cause: unknown): AdcsError {
  if (/ENOENT/.test(text)) return new AdcsError('ADCS_AUTH_FAILED', 'kinit not found: install the MIT Kerberos client (Debian krb5-user)', { cause });
  if (/Cannot contact any KDC|Cannot find KDC|Connection refused/i.test(text)) {
    return new AdcsError('ADCS_UNAVAILABLE', `no Kerberos KDC reachable for ${principal}: ${text}`, { cause, causeCode: 'KDC_UNREACHABLE' });
  }
  return new AdcsError('ADCS_AUTH_FAILED', `Kerberos ticket for ${principal} refused: ${text}`, { cause });
}
