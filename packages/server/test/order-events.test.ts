import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCsr, generateKeyPair, parseDn, pemEncode } from '@certbridge/pki';
import { createCore, type Core } from '../src/core.ts';
import { createSealer } from '../src/crypto/sealer.ts';
import { buildApp } from '../src/http/app.ts';
import { ENGINES, PKI_URL, bearer, createTestEnv, userWithToken, type TestEnv } from './helpers.ts';

/**
 * `GET /api/v1/orders/events` (server-sent events) over a real socket. The stream is served by
 * one instance while the orders change through a second instance on the same database: the feed
 * must come from the database, not from in-process events.
 */

interface SseEvent { event: string; data: Record<string, unknown> }

/** A text/event-stream reader: collects events; `until` waits for one matching event. */
async function openStream(base: string, token: string | undefined, query = '') {
  const abort = new AbortController();
  const res = await fetch(`${base}/api/v1/orders/events${query}`, { headers: token ? bearer(token) : {}, signal: abort.signal });
  const events: SseEvent[] = [];
  const waiters: (() => void)[] = [];
  if (res.ok && res.body) {
    void (async () => {
      let buffer = '';
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
            for (const w of waiters.splice(0)) w();
          }
        }
      } catch { /* aborted by close() */ }
    })();
  }
  const until = async (match: (e: SseEvent) => boolean, timeoutMs = 15_000): Promise<SseEvent> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = events.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching event; saw ${JSON.stringify(events.map((e) => [e.event, e.data['id'], e.data['status']]))}`);
      await new Promise<void>((resolve) => { waiters.push(resolve); setTimeout(resolve, 200); });
    }
  };
  return { res, events, until, close: () => abort.abort() };
}

const csr = (cn: string) => {
  const { privateKey, publicKey } = generateKeyPair('EC-P256');
  return pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn(`CN=${cn}`), sans: [{ type: 'dns', value: cn }], privateKey, publicKey }));
};

describe.each(ENGINES)('order events (SSE) on %s', (engine) => {
  let env: TestEnv;
  let other: { core: Core; app: FastifyInstance };
  let base: string;
  let member: { id: string; token: string };
  const streams: { close(): void }[] = [];

  /** Issues through the second instance; returns the order id. */
  const issueElsewhere = async (app: string, cn: string): Promise<string> => {
    const res = await other.app.inject({ method: 'POST', url: `/api/v1/applications/${app}/certificates`, headers: bearer(env.adminToken), payload: { profile: 'default-tls', csr: csr(cn) } });
    if (res.statusCode !== 201) throw new Error(`issuing ${cn}: ${res.statusCode} ${res.body}`);
    return res.json<{ order: { id: string } }>().order.id;
  };

  beforeAll(async () => {
    env = await createTestEnv(engine);
    const admin = (await env.core.auth.authenticateToken(env.adminToken))!;
    member = await userWithToken(env, 'sse-member', 'requester');
    await env.core.catalog.createApplication(admin, { name: 'sse-a', profiles: ['default-tls'] });
    await env.core.catalog.createApplication(admin, { name: 'sse-b', profiles: ['default-tls'] });
    await env.core.catalog.setMember(admin, 'sse-a', { user: member.id, role: 'requester' });
    await env.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(env.app.server.address() as AddressInfo).port}`;
    const core = createCore({ db: env.handle.db, sealer: createSealer(env.masterKey), pkiUrl: PKI_URL });
    other = { core, app: await buildApp(core, { publicUrl: 'https://certbridge.test' }) };
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    // Sockets of streams the test client (undici) aborted would hold close() for Fastify's 72 s keep-alive timeout.
    env?.app.server.closeAllConnections();
    await other?.app.close();
    await env?.close();
  });

  it('fail/no session and no token: 401 with the API error, not a stream', async () => {
    const s = await openStream(base, undefined);
    expect({ status: s.res.status, type: s.res.headers.get('content-type'), code: (await s.res.json() as { error: { code: string } }).error.code })
      .toEqual({ status: 401, type: 'application/json; charset=utf-8', code: 'UNAUTHENTICATED' });
  });

  it('fail/a bad maxSeconds is refused before streaming', async () => {
    const s = await openStream(base, env.adminToken, '?maxSeconds=-1');
    expect({ status: s.res.status, code: (await s.res.json() as { error: { code: string } }).error.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
  });

  it('ok/a requester sees new orders of its own application only; an admin sees both', async () => {
    const mine = await openStream(base, member.token);
    const all = await openStream(base, env.adminToken);
    streams.push(mine, all);
    expect(mine.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    await mine.until((e) => e.event === 'ready');
    await all.until((e) => e.event === 'ready');
    const inB = await issueElsewhere('sse-b', 'b.sse.example.test');
    await all.until((e) => e.event === 'order' && e.data['id'] === inB);
    const inA = await issueElsewhere('sse-a', 'a.sse.example.test');
    const seen = await mine.until((e) => e.event === 'order' && e.data['id'] === inA);
    await all.until((e) => e.event === 'order' && e.data['id'] === inA);
    expect({ status: seen.data['status'], commonName: seen.data['commonName'], orders: mine.events.filter((e) => e.event === 'order').map((e) => e.data['id']) })
      .toEqual({ status: 'issued', commonName: 'a.sse.example.test', orders: [inA] });
  });

  it('ok/a pending order that changes on another instance is pushed with its new state', async () => {
    const s = await openStream(base, member.token);
    streams.push(s);
    await s.until((e) => e.event === 'ready');
    const app = (await other.core.repos.catalog.findApplication('sse-a'))!;
    const profile = (await other.core.repos.catalog.findProfile('default-tls'))!;
    const id = randomUUID();
    await other.core.repos.orders.insert({
      id, application_id: app.id, profile_id: profile.id, ca_id: profile.ca_id, requester_id: member.id, protocol: 'api', status: 'pending',
      csr_der: null, subject: 'CN=waiting.sse.example.test', sans: '[]', key_algorithm: 'EC-P256', server_key_sealed: null, ca_request_id: '77',
      ca_server: null, template: 'ManagerApproval', disposition: 'Taken Under Submission', hresult: null, error: null, attempts: 1, next_poll_at: new Date(Date.now() + 3_600_000),
      certificate_id: null, created_at: new Date(),
    });
    expect((await s.until((e) => e.event === 'order' && e.data['id'] === id)).data['status']).toBe('pending');
    await other.core.repos.orders.update(other.core.db, id, { status: 'denied', disposition: 'Denied by Policy Module', next_poll_at: null });
    const denied = await s.until((e) => e.event === 'order' && e.data['id'] === id && e.data['status'] === 'denied');
    expect(denied.data['disposition']).toBe('Denied by Policy Module');
  });

  it('ok/the watcher stops with its last listener; a later listener is not told about changes made meanwhile', async () => {
    for (const s of streams.splice(0)) s.close();
    for (let i = 0; i < 50 && env.core.orderFeed.listenerCount() > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(env.core.orderFeed.listenerCount()).toBe(0);
    await issueElsewhere('sse-a', 'meanwhile.sse.example.test');
    const s = await openStream(base, member.token);
    streams.push(s);
    await s.until((e) => e.event === 'ready');
    const after = await issueElsewhere('sse-a', 'after.sse.example.test');
    await s.until((e) => e.event === 'order' && e.data['id'] === after);
    expect(s.events.filter((e) => e.event === 'order').map((e) => e.data['id'])).toEqual([after]);
  });

  it('ok/maxSeconds=0 answers ready and ends the stream', async () => {
    const res = await fetch(`${base}/api/v1/orders/events?maxSeconds=0`, { headers: bearer(member.token) });
    expect([res.status, await res.text()]).toEqual([200, 'retry: 2000\nevent: ready\ndata: {"maxSeconds":0}\n\n']);
  });
});
