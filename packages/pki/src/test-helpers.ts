import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KeyObject } from 'node:crypto';
import { generateKeyPair, spkiOf, type KeyAlgorithm } from './keys.ts';
import { parseDn } from './names.ts';
import { randomSerial } from './serial.ts';
import { signCertificate, type CertificateTemplate } from './certificate.ts';
import type { Signer } from './issuer.ts';
import { pemEncode } from './pem.ts';

/** Test-only helpers: a temp dir with openssl, and throwaway PKIs. Not exported from index.ts. */

export interface Workdir { dir: string; path(name: string): string; write(name: string, data: string | Uint8Array): string; read(name: string): Buffer; cleanup(): void }

export function workdir(): Workdir {
  const dir = mkdtempSync(join(tmpdir(), 'certbridge-pki-'));
  return {
    dir,
    path: (name) => join(dir, name),
    write: (name, data) => { const p = join(dir, name); writeFileSync(p, data); return p; },
    read: (name) => readFileSync(join(dir, name)),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Runs openssl synchronously; returns stdout+stderr and the exit status, never throws on a non-zero exit. */
export function openssl(args: string[], cwd?: string): { status: number; out: string } {
  const res = spawnSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: res.status ?? -1, out: `${res.stdout ?? ''}${res.stderr ?? ''}` };
}

/** Asynchronous openssl, for tests where this process also serves openssl (OCSP over HTTP). */
export async function opensslAsync(args: string[], cwd?: string): Promise<{ status: number; out: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('openssl', args, { cwd, encoding: 'utf8' });
    return { status: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { status: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

export interface TestCa extends Signer { keys: { privateKey: KeyObject; publicKey: KeyObject }; pem: string }

const HOUR = 3_600_000;
export const NOW = new Date();
export const BEFORE = new Date(NOW.getTime() - HOUR);
export const AFTER = new Date(NOW.getTime() + 24 * HOUR);

export function makeRoot(alg: KeyAlgorithm = 'EC-P256', cn = 'Test Root'): TestCa {
  const keys = generateKeyPair(alg);
  const certificateDer = signCertificate({
    serialNumber: randomSerial(), subject: parseDn(`CN=${cn}, O=Certbridge Test`), spkiDer: spkiOf(keys.publicKey),
    notBefore: BEFORE, notAfter: AFTER, ca: {}, keyUsages: ['keyCertSign', 'cRLSign'],
  }, { selfSigned: keys.privateKey });
  return { keys, certificateDer, privateKey: keys.privateKey, pem: pemEncode('CERTIFICATE', certificateDer) };
}

export function makeIssued(issuer: Signer, alg: KeyAlgorithm, overrides: Partial<CertificateTemplate> = {}): TestCa {
  const keys = generateKeyPair(alg);
  const certificateDer = signCertificate({
    serialNumber: randomSerial(), subject: parseDn('CN=leaf.example.test'), spkiDer: spkiOf(keys.publicKey),
    notBefore: BEFORE, notAfter: AFTER, ...overrides,
  }, issuer);
  return { keys, certificateDer, privateKey: keys.privateKey, pem: pemEncode('CERTIFICATE', certificateDer) };
}
