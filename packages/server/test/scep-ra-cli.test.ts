import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseCertificate, parseCertsOnlyPkcs7, pemDecode } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { freePort } from './enrollment-fixtures.ts';

/**
 * `certbridge scep rotate-ra` in its own process on the data directory of a stopped server: the
 * server started again serves the new RA in GetCACert and its settings; bad options are one line.
 */
const ROOT = path.resolve(import.meta.dirname, '../../..');
const MAIN = 'packages/server/src/cli/main.ts';
const URL_SETTINGS = '/api/v1/applications/default/enrollment/default-tls';

function cli(dataDir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, CERTBRIDGE_DATA_DIR: dataDir, CERTBRIDGE_LOG_LEVEL: 'silent' };
  delete env['DATABASE_URL'];
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('certbridge scep rotate-ra', () => {
  let dataDir: string;
  let oldSerial: string;
  const start = async () => startServer(loadConfig({ CERTBRIDGE_DATA_DIR: dataDir, CERTBRIDGE_HTTP_PORT: String(await freePort()), CERTBRIDGE_HTTPS_PORT: '0', CERTBRIDGE_LOG_LEVEL: 'silent' }));
  const api = async (server: RunningServer, method: string, p: string, body?: unknown) => {
    const res = await fetch(`${server.httpUrl}${p}`, { method, headers: { authorization: `Bearer ${server.bootstrap.adminToken ?? (await fs.readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim()}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return (await res.json()) as { scep: { raCertificate: string } };
  };

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-scep-cli-'));
    const server = await start();
    try {
      const settings = await api(server, 'PUT', URL_SETTINGS, { scep: { enabled: true, staticChallenge: 'scep cli challenge' } });
      oldSerial = parseCertificate(pemDecode(settings.scep.raCertificate, 'CERTIFICATE')).serialHex;
    } finally {
      await server.close();
    }
  }, 180_000);
  afterAll(async () => {
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('ok/rotates the RA; the restarted server serves the new one in GetCACert and the settings', async () => {
    const r = await cli(dataDir, ['scep', 'rotate-ra', '--application', 'default', '--profile', 'default-tls', '--grace-seconds', '3600']);
    const [first, ...pem] = r.stdout.trim().split('\n');
    const newSerial = parseCertificate(pemDecode(pem.join('\n'), 'CERTIFICATE')).serialHex;
    const server = await start();
    try {
      const shown = parseCertificate(pemDecode((await api(server, 'GET', URL_SETTINGS)).scep.raCertificate, 'CERTIFICATE')).serialHex;
      const [caCert] = parseCertsOnlyPkcs7(new Uint8Array(await (await fetch(`${server.httpUrl}/scep/default-tls?operation=GetCACert`)).arrayBuffer()));
      expect([r.code, first!.startsWith(`rotated the SCEP RA of default/default-tls; previous RA serial ${oldSerial} opens envelopes until `), newSerial !== oldSerial, shown, parseCertificate(caCert!).serialHex])
        .toEqual([0, true, true, newSerial, newSerial]);
    } finally {
      await server.close();
    }
  }, 180_000);

  it('fail/a grace period that is not a whole number of seconds is one line and exit 1', async () => {
    const r = await cli(dataDir, ['scep', 'rotate-ra', '--application', 'default', '--profile', 'default-tls', '--grace-seconds', 'soon']);
    expect([r.code, r.stderr.trim()]).toEqual([1, 'certbridge: --grace-seconds must be a whole number of seconds, at most 90 days']);
  }, 120_000);
});
