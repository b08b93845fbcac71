import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandlers } from '../src/http/error-handler.ts';
import { UI_NOT_BUILT, registerWebUi } from '../src/http/web-ui.ts';

/** How the server answers for the web UI: files, SPA fallback, paths it never takes, and no build. */
let dist: string;
let built: FastifyInstance;
let missing: FastifyInstance;

async function appWith(root: string): Promise<FastifyInstance> {
  const app = Fastify();
  installErrorHandlers(app);
  app.get('/api/v1/ping', async () => ({ pong: true }));
  await registerWebUi(app, root);
  await app.ready();
  return app;
}

beforeAll(async () => {
  dist = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-dist-'));
  await fs.mkdir(path.join(dist, 'assets'));
  await fs.writeFile(path.join(dist, 'index.html'), '<!doctype html><title>Certbridge</title>');
  await fs.writeFile(path.join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
  await fs.writeFile(path.join(dist, 'favicon.svg'), '<svg/>');
  built = await appWith(dist);
  missing = await appWith(path.join(dist, 'does-not-exist'));
});

afterAll(async () => {
  await Promise.all([built.close(), missing.close()]);
  await fs.rm(dist, { recursive: true, force: true });
});

describe('web UI serving', () => {
  it.each([
    ['ok/root', '/'],
    ['ok/client-side route', '/certificates/0b7c8a9e-1111-4222-8333-944455556666'],
    ['ok/deep client-side route with query', '/orders?status=pending'],
  ])('%s answers index.html, never cached', async (_name, url) => {
    const res = await built.inject({ method: 'GET', url });
    expect([res.statusCode, res.headers['content-type'], res.headers['cache-control'], res.body]).toEqual([200, 'text/html; charset=utf-8', 'no-cache', '<!doctype html><title>Certbridge</title>']);
  });

  it('ok/hashed assets are served with a year of caching', async () => {
    const res = await built.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    expect([res.statusCode, res.body, res.headers['cache-control']]).toEqual([200, 'console.log(1)', 'public, max-age=31536000, immutable']);
  });

  it.each([
    ['fail/api', '/api/v1/nothing-here'],
    ['fail/acme', '/acme/default-tls/directory'],
    ['fail/scep', '/scep/default-tls'],
    ['fail/est', '/.well-known/est/cacerts'],
    ['fail/ca', '/ca/'],
    ['fail/crl', '/crl/x'],
    ['fail/ocsp', '/ocsp/x'],
    ['fail/docs', '/docs/nothing'],
    ['fail/metrics', '/metrics'],
    ['fail/healthz', '/healthz'],
    ['fail/readyz', '/readyz'],
  ])('%s: unknown protocol and API paths answer the JSON 404, not the UI', async (_name, url) => {
    const res = await built.inject({ method: 'GET', url });
    expect([res.statusCode, res.json().error.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('ok/API routes keep working beside the UI', async () => {
    const res = await built.inject({ method: 'GET', url: '/api/v1/ping' });
    expect(res.json()).toEqual({ pong: true });
  });

  it('fail/path traversal stays inside dist', async () => {
    const res = await built.inject({ method: 'GET', url: '/..%2f..%2fetc%2fpasswd' });
    expect([res.statusCode, res.body]).toEqual([200, '<!doctype html><title>Certbridge</title>']);
  });

  it.each([['/'], ['/certificates']])('fail/without a build %s answers 503 with what to run', async (url) => {
    const res = await missing.inject({ method: 'GET', url });
    expect([res.statusCode, res.headers['content-type'], res.body]).toEqual([503, 'text/plain; charset=utf-8', UI_NOT_BUILT]);
  });
});
