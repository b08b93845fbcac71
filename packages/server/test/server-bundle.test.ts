import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '@certbridge/pki';
import { ensureWebUiBuilt } from '../../web/test-support/build-ui.ts';
import { spawnServer, type ServerProcess } from './reliability-process.ts';
import { buildServerBundle, startScriptNodeOptions } from './server-bundle.ts';

/**
 * `npm start` runs the compiled server (packages/server/build.mjs), not the sources the other tests
 * load through tsx. This runs that bundle as the start script does, on PGlite, and checks what a
 * bundle can get wrong: files found next to the code (the web UI, PGlite's WebAssembly, the API
 * docs' assets), the workspace packages compiled in (PKI, issuance), and the CLI's entry check.
 */
const OUT_DIR = path.resolve(import.meta.dirname, '../dist', `test-${process.pid}`);

describe('the server bundle run as npm start runs it', () => {
  let server: ServerProcess;

  beforeAll(async () => {
    await ensureWebUiBuilt();
    const bundle = buildServerBundle(path.join(OUT_DIR, 'certbridge.mjs'));
    server = await spawnServer({ bundle });
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    if (server) await fs.rm(server.dataDir, { recursive: true, force: true });
    await fs.rm(OUT_DIR, { recursive: true, force: true });
  });

  it('ok/the start script passes Node options before the bundle and none of them loads TypeScript', () => {
    const options = startScriptNodeOptions();
    expect(options.every((o) => o.startsWith('--'))).toBe(true);
    expect(options.join(' ')).not.toMatch(/tsx/);
  });

  it('ok/serves the web UI from packages/web/dist', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<div id="root">');
  });

  it('ok/serves the API docs with their assets', async () => {
    const docs = await fetch(`${server.url}/docs/`);
    expect(docs.status).toBe(200);
    const openapi = await server.api('GET', '/docs/json');
    expect(openapi.status).toBe(200);
    expect(openapi.json()['openapi']).toMatch(/^3\./);
  });

  it('ok/issues and revokes a certificate through the REST API, stored in PGlite', async () => {
    const issued = await server.api('POST', '/api/v1/applications/default/certificates', {
      profile: 'default-tls', subject: { commonName: 'bundle.example.test' }, sans: ['dns:bundle.example.test'], keyAlgorithm: 'EC-P256',
    });
    expect(issued.status).toBe(201);
    const cert = issued.json()['certificate'] as { id: string; certificate: string };
    expect(parseCertificate(cert.certificate).subjectText).toBe('CN=bundle.example.test');
    const revoked = await server.api('POST', `/api/v1/certificates/${cert.id}/revoke`, { reason: 'superseded' });
    expect(revoked.status).toBe(200);
    const listed = await server.api('GET', '/api/v1/certificates?q=bundle.example.test');
    expect((listed.json()['items'] as { status: string }[]).map((c) => c.status)).toEqual(['revoked']);
  });

  it('fail/answers a malformed request in the API error shape', async () => {
    const res = await server.api('POST', '/api/v1/applications/default/certificates', { profile: 'default-tls', csr: 'not a CSR' });
    expect(res.status).toBe(400);
    expect(res.json()['error']).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  });
});
