import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { attachConnectorHub, CONNECTOR_WS_PATH, type ConnectorHub } from '../src/connectors/connector-hub.ts';
import type { ConnectorRow } from '../src/connectors/connectors-tables.ts';
import { waitFor } from './connector-fixtures.ts';
import { createTestEnv, type TestEnv } from './helpers.ts';

/**
 * Stopping the server while a connector's message is being handled: the hub's close() waits for
 * that work before the server closes the database under it. The hub runs on a plain HTTP server
 * with the real connector services on PGlite; only two calls are wrapped: authentication (a fixed
 * connector, so no client certificate is needed; the mTLS upgrade has its own tests) and the
 * heartbeat write, held at a gate so the message is still being handled when close() is called.
 */
describe('connector hub shutdown', () => {
  let env: TestEnv;
  let server: http.Server;
  let hub: ConnectorHub | undefined;
  let client: WebSocket | undefined;
  let logged: { level: number; msg: string }[];
  const events: string[] = [];
  let reachGate: () => void;
  let gateReached: Promise<void>;
  let openGate: () => void;

  beforeEach(async () => {
    env = await createTestEnv('pglite');
    server = http.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    logged = [];
    events.length = 0;
    gateReached = new Promise((resolve) => { reachGate = resolve; });
    const gate = new Promise<void>((resolve) => { openGate = resolve; });
    const connector = { id: randomUUID(), name: 'branch-office' } as ConnectorRow;
    const service = env.core.connectors.service;
    let heartbeats = 0;
    const connectors: typeof service = {
      ...service,
      authenticate: async () => ({ ok: true, connector, serialHex: '01' }),
      async heartbeat(id, version) {
        // The first heartbeat is the hub's own when the connector is accepted; the second is the message's.
        if (++heartbeats !== 2) return service.heartbeat(id, version);
        reachGate();
        await gate;
        await service.heartbeat(id, version);
        events.push('heartbeat message handled');
      },
    };
    const log = pino({ level: 'info' }, new Writable({ write(chunk: Buffer, _enc, done) { logged.push(JSON.parse(chunk.toString())); done(); } }));
    hub = attachConnectorHub(server, { db: env.handle.db, jobs: env.core.connectors.jobs, adcsOptions: env.core.connectors.adcsOptions, connectors, log }, { drainMs: 2_000 });
    client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}${CONNECTOR_WS_PATH}`);
    client.on('error', () => undefined); // the hub ends the socket when it closes
    await once(client, 'open');
    await waitFor('the connector is online', async () => hub!.online().includes(connector.id));
  });

  afterEach(async () => {
    openGate();
    client?.terminate();
    await hub?.close();
    server.close();
    await env.close();
  });

  it('ok/close() waits for a message being handled, and the handler finishes with the database open', async () => {
    client!.send(JSON.stringify({ v: 1, type: 'heartbeat', at: new Date().toISOString() }));
    await gateReached;
    let closed = false;
    const closing = hub!.close().then(() => {
      closed = true;
      events.push('hub closed');
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closed).toBe(false);
    openGate();
    await closing;
    expect(events).toEqual(['heartbeat message handled', 'hub closed']);
    expect(logged.filter((line) => line.level >= 40)).toEqual([]);
  });

  it('fail/a handler that does not finish holds close() for drainMs only, and says so', async () => {
    client!.send(JSON.stringify({ v: 1, type: 'heartbeat', at: new Date().toISOString() }));
    await gateReached;
    await hub!.close();
    expect(events).toEqual([]);
    expect(logged.filter((line) => line.level >= 40).map((line) => line.msg)).toEqual(['connector hub closed with work still running']);
  });
});
