import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/http/app.ts';
import { startTestDnsServer, type TestDnsServer } from './acme-dns-server.ts';
import { createTestEnv, type TestEnv } from './helpers.ts';

export const ACME_ORIGIN = 'https://certbridge.test';

/**
 * An ACME server in process (`buildApp`, one validation attempt, 2 s timeouts) on `engine`, with
 * the test's own DNS server and an http-01 challenge server on loopback. The challenge server
 * answers each token published in `tokens`; a token in `flaky` fails its next fetch with 503, and
 * `onFetch` runs before a token's answer (which waits for it).
 */
export async function startAcmeTestbed(engine: Parameters<typeof createTestEnv>[0]) {
  const env: TestEnv = await createTestEnv(engine);
  const dns: TestDnsServer = await startTestDnsServer();
  const tokens = new Map<string, string>();
  const flaky = new Set<string>();
  const onFetch = new Map<string, () => Promise<void>>();
  const web = http.createServer(async (req, res) => {
    const token = req.url?.split('/').pop() ?? '';
    await onFetch.get(token)?.();
    if (flaky.delete(token)) return void res.writeHead(503).end('not yet');
    const body = tokens.get(token);
    res.writeHead(body ? 200 : 404).end(body ?? 'no such token');
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  const http01Port = (web.address() as AddressInfo).port;
  /** Another app on the same database and challenge server, with other ACME options. */
  const app = (acme: { retryDelaysMs?: number[]; timeoutMs?: number } = {}): Promise<FastifyInstance> =>
    buildApp(env.core, { publicUrl: ACME_ORIGIN, acme: { http01Port, tlsAlpn01Port: 1, dnsResolver: dns.address, retryDelaysMs: [0], timeoutMs: 2000, ...acme } });
  const main = await app();
  return {
    env, dns, tokens, flaky, onFetch, app: main, withOptions: app,
    async close() {
      await main.close();
      await new Promise((resolve) => web.close(resolve));
      await dns.close();
      await env.close();
    },
  };
}

export type AcmeTestbed = Awaited<ReturnType<typeof startAcmeTestbed>>;
