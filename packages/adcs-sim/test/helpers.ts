/**
 * Test fixtures: a throwaway emulator configuration, real PKCS#10 requests, an HTTPS client
 * that trusts the emulator's root, and a curl runner.
 */
import { request } from 'node:https';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import type { SimConfigInput } from '../src/index.ts';

x509.cryptoProvider.set(webcrypto);

export const PASSWORD = 'Passw0rd!';
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export function testConfig(extra: Partial<SimConfigInput> = {}): SimConfigInput {
  return {
    host: 'localhost',
    port: 0,
    domain: 'CORP',
    adminToken: ADMIN_TOKEN,
    users: [
      { name: 'alice', password: PASSWORD, groups: ['Web Admins'] },
      { name: 'bob', password: PASSWORD },
      { name: 'admin', password: PASSWORD, groups: ['Domain Admins'] },
    ],
    templates: [
      { cn: 'WebServer', displayName: 'Web Server', schemaVersion: 1, enroll: ['alice'], validityDays: 730 },
      { cn: 'User', schemaVersion: 1, enroll: ['bob'], subject: 'account', extendedKeyUsage: ['1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.4'] },
      { cn: 'ManagerApproval', displayName: 'Manager Approval', enroll: ['alice'], issuance: 'manager' },
    ],
    auth: { basic: true, ntlm: true },
    ...extra,
  };
}

/** A real RSA-2048 PKCS#10 request (PEM) for `cn` with DNS SANs. */
export async function makeCsr(cn: string, dns: string[] = [cn], bits = 2048): Promise<string> {
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: bits };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${cn}`,
    keys,
    signingAlgorithm: alg,
    extensions: dns.length ? [new x509.SubjectAlternativeNameExtension(dns.map((d) => ({ type: 'dns' as const, value: d })))] : [],
  });
  return csr.toString('pem');
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Header names in wire order. */
  rawHeaderNames: string[];
  body: Buffer;
  text: string;
}

/** One HTTPS request trusting `ca`; Basic credentials when `user` is given. */
export function https(
  url: string,
  opts: { ca: string; method?: string; user?: string; body?: string; headers?: Record<string, string> },
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.user) headers.authorization = `Basic ${Buffer.from(`${opts.user}:${PASSWORD}`).toString('base64')}`;
    if (opts.body !== undefined) {
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(opts.body));
    }
    const req = request(url, { method: opts.method ?? 'GET', ca: opts.ca, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const rawHeaderNames = res.rawHeaders.filter((_h, i) => i % 2 === 0);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaderNames, body, text: body.toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** certfnsh.asp form body for a new request. */
export function newreqForm(csrPem: string, attrib: string): string {
  return new URLSearchParams({ Mode: 'newreq', CertRequest: csrPem, CertAttrib: attrib, TargetStoreFlags: '0', SaveCert: 'yes', FriendlyType: 'Saved-Request Certificate', ThumbPrint: '' }).toString();
}

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CmdResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, maxBuffer: 10 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

export async function tempDir(): Promise<{ dir: string; file: (name: string, content: string | Buffer) => Promise<string>; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'adcs-sim-test-'));
  return {
    dir,
    file: async (name, content) => {
      const p = join(dir, name);
      await writeFile(p, content);
      return p;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export { x509 };
