import { execFile } from 'node:child_process';
import type { JobSpec } from './protocol.ts';

/** A certutil run that did not revoke: carries the command's context (status, output excerpt). */
export class CertutilError extends Error {
  constructor(message: string, readonly retryable: boolean) {
    super(message);
    this.name = 'CertutilError';
  }
}

export const NEEDS_WINDOWS = 'revocation at ADCS needs a connector running on Windows (certutil)';

export interface CertutilOptions {
  /** The certutil executable (default `certutil`, found on PATH; Windows has it in System32). */
  path: string;
  /** Whether this host may run it: Windows only, unless a test allows any platform for a stand-in. */
  allowed: boolean;
  timeoutMs: number;
}

/**
 * From the environment: `CERTBRIDGE_CONNECTOR_CERTUTIL` names another executable, and
 * `CERTBRIDGE_CONNECTOR_CERTUTIL_ANY_PLATFORM=1` lifts the Windows check. Both exist so tests on
 * Linux can run a stand-in that records its arguments; a real connector sets neither.
 */
export function certutilOptions(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): CertutilOptions {
  return {
    path: env['CERTBRIDGE_CONNECTOR_CERTUTIL'] || 'certutil',
    allowed: platform === 'win32' || env['CERTBRIDGE_CONNECTOR_CERTUTIL_ANY_PLATFORM'] === '1',
    timeoutMs: 60_000,
  };
}

const excerpt = (s: string): string => s.replace(/\s+/g, ' ').trim().slice(0, 500);

/**
 * Revokes one certificate at ADCS: `certutil -config <host\CA> -revoke <serial> <reason>`, run
 * with execFile (no shell: the config string and serial are arguments, never parsed). The
 * connector's service account must hold "Issue and Manage Certificates" on the CA. A non-zero
 * exit is a retryable failure (CA service stopped, RPC unreachable); a host that is not Windows
 * answers a non-retryable failure saying so.
 */
export function revokeWithCertutil(job: Extract<JobSpec, { kind: 'revoke' }>, options: CertutilOptions): Promise<{ revoked: true; serialHex: string; config: string; reason: number }> {
  if (!options.allowed) return Promise.reject(new CertutilError(NEEDS_WINDOWS, false));
  const args = ['-config', job.config, '-revoke', job.serialHex, String(job.reason)];
  return new Promise((resolve, reject) => {
    execFile(options.path, args, { timeout: options.timeoutMs, windowsHide: true, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve({ revoked: true, serialHex: job.serialHex, config: job.config, reason: job.reason });
      const status = typeof err.code === 'number' ? `exited with status ${err.code}` : err.killed ? `timed out after ${options.timeoutMs} ms` : `could not be started (${err.code ?? err.message})`;
      reject(new CertutilError(`certutil -config "${job.config}" -revoke ${job.serialHex} ${job.reason} ${status}: ${excerpt(`${stdout} ${stderr}`) || 'no output'}`, true));
    });
  });
}
