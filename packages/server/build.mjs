#!/usr/bin/env node
/**
 * Compiles the server (and the workspace packages it imports: @certbridge/pki, adcs-client, …)
 * into one ES module, dist/certbridge.mjs, which `npm start` runs with plain `node`.
 *
 * Why not run the TypeScript sources through tsx as tests do: tsx transforms every module at
 * start and keeps the results and their source maps, and it compiles with keepNames, which names
 * every function at run time. bench/memory.ts: a PGlite server idled at about 267 MB through tsx
 * against about 205 MB from this bundle; bench/issue-internal.ts also spends less CPU per request.
 *
 * Third-party packages stay external (loaded from node_modules as they are): some find their own
 * files next to their code (PGlite's .wasm and .data, swagger-ui's assets), and the native
 * Kerberos addon cannot be bundled. Source maps are written beside the bundle so stack traces
 * (`node --enable-source-maps`) can point at the TypeScript.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SERVER_BUNDLE = path.join(here, 'dist', 'certbridge.mjs');

/** Bare imports other than this repository's own workspace packages are left to Node. */
const externalThirdParty = {
  name: 'external-third-party',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@certbridge/') ? undefined : { external: true }));
  },
};

/** `outfile` elsewhere than dist/ must still lie inside the repository, where node_modules is found. */
export async function buildServerBundle(outfile = SERVER_BUNDLE) {
  await build({
    entryPoints: [path.join(here, 'src', 'cli', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
    plugins: [externalThirdParty],
  });
  return outfile;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildServerBundle(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  console.log(`server bundle: ${path.relative(process.cwd(), out)}`);
}
