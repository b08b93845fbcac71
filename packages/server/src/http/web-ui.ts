import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * Where `npm run build -w packages/web` writes the UI (SPEC "Repository": packages/web). Found
 * through the workspace package rather than a path relative to this file, which differs between
 * the sources and the server bundle (build.mjs).
 */
export const WEB_DIST = path.join(path.dirname(createRequire(import.meta.url).resolve('@certbridge/web/package.json')), 'dist');

/** Paths owned by the API and the protocol endpoints: never answered with the UI's index.html. */
const NOT_UI = /^\/(api|acme|scep|\.well-known|ca|crl|ocsp|docs|healthz|readyz|metrics|connector)(\/|$)/;

export const UI_NOT_BUILT = 'the web UI is not built: run npm run build\n';

/**
 * Serves the web UI at `/`: files of `packages/web/dist` as they are, and index.html for any
 * other GET path (client-side routing). Built files under `assets/` have hashed names and are
 * cached for a year; index.html is never cached so a new build is picked up at once.
 */
export async function registerWebUi(app: FastifyInstance, root = WEB_DIST): Promise<void> {
  await app.register(fastifyStatic, { root, serve: false });
  const built = () => fs.existsSync(path.join(root, 'index.html'));
  app.get('/*', async (request, reply) => {
    const pathname = decodeURIComponent(request.url.split('?')[0]!);
    if (NOT_UI.test(pathname)) return reply.callNotFound();
    if (!built()) return reply.status(503).type('text/plain; charset=utf-8').send(UI_NOT_BUILT);
    const relative = pathname.replace(/^\/+/, '');
    const file = relative && !relative.split('/').includes('..') ? path.join(root, relative) : '';
    if (file && fs.statSync(file, { throwIfNoEntry: false })?.isFile()) {
      const hashed = relative.startsWith('assets/');
      return reply.sendFile(relative, { maxAge: hashed ? 365 * 86400_000 : 0, immutable: hashed });
    }
    return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
  });
}
