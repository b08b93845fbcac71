import https from 'node:https';
import path from 'node:path';
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnrollmentServer, type EnrollmentServer } from './enrollment-fixtures.ts';

/** Response headers of a GET over the HTTPS listener, trusting the server's own CA. */
async function httpsHeaders(url: string, ca: string): Promise<Record<string, string | string[] | undefined>> {
  return new Promise((resolve, reject) => {
    https.get(url, { ca }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.headers));
    }).on('error', reject);
  });
}

describe('security headers on the UI, API and protocol answers', () => {
  let env: EnrollmentServer;
  let ca: string;
  beforeAll(async () => {
    env = await startEnrollmentServer('headers');
    ca = await fs.readFile(path.join(env.dataDir, 'ca.pem'), 'utf8');
  });
  afterAll(async () => env?.close());

  it.each([
    ['ok/UI', '/'],
    ['ok/API', '/api/v1/auth/me'],
    ['ok/health', '/healthz'],
  ])('%s on HTTP: CSP without inline code, frames denied, nosniff, no referrer, no HSTS', async (_name, p) => {
    const res = await fetch(`${env.server.httpUrl}${p}`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('strict-transport-security')).toBeNull();
  });

  it('ok/HTTPS listener adds HSTS for a year', async () => {
    const headers = await httpsHeaders(`${env.server.httpsUrl}/healthz`, ca);
    expect(headers['strict-transport-security']).toBe('max-age=31536000');
    expect(headers['x-frame-options']).toBe('DENY');
  });

  it('ok/Swagger UI at /docs gets its own policy and still loads its script', async () => {
    const res = await fetch(`${env.server.httpUrl}/docs/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'self'/);
    const html = await res.text();
    const script = /<script src="\.\/([^"]+)"/.exec(html)?.[1];
    expect(script).toBeTruthy();
    expect((await fetch(`${env.server.httpUrl}/docs/${script}`)).status).toBe(200);
  });
});
