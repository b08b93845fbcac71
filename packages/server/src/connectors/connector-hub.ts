import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { connectorMessage, decodeFrame, jobSpec, MAX_MESSAGE_BYTES, type ServerMessage } from '@certbridge/connector/protocol';
import type { ConnectorAdcsOptions } from './adcs-options.ts';
import type { ConnectorJobs } from './connector-jobs.ts';
import type { ConnectorsService } from './connectors-service.ts';
import { connectorDb } from './connectors-tables.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

export const CONNECTOR_WS_PATH = '/connector/v1/ws';

export interface HubOptions {
  /** How often this instance looks for queued jobs of the connectors it holds. */
  dispatchMs?: number;
}

/**
 * The `wss://…/connector/v1/ws` endpoint on the HTTPS listener (ws in noServer mode). The TLS
 * client certificate is checked at the upgrade (Connector CA, connector active, current serial);
 * anything else gets a 401/403 before any WebSocket exists. Jobs reach the socket from the
 * database (connector-jobs.ts), so the instance that created a job need not hold the socket.
 */
export function attachConnectorHub(server: Server, deps: { db: Kysely<Database>; connectors: ConnectorsService; jobs: ConnectorJobs; adcsOptions: ConnectorAdcsOptions; log: Logger }, options: HubOptions = {}) {
  const { connectors, jobs, log } = deps;
  const instance = randomUUID();
  // Frames over the protocol limit are answered, not fatal: ws itself only closes at 4x the limit.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 * MAX_MESSAGE_BYTES });
  const sockets = new Map<string, WebSocket>();

  const send = (ws: WebSocket, message: ServerMessage) => ws.send(JSON.stringify(message));

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (new URL(req.url ?? '/', 'https://x').pathname !== CONNECTOR_WS_PATH) return;
    const tls = socket as Partial<TLSSocket>;
    const cert = typeof tls.getPeerCertificate === 'function' ? tls.getPeerCertificate(false) : undefined;
    const der = cert && cert.raw ? new Uint8Array(cert.raw) : undefined;
    connectors.authenticate(der).then((auth) => {
      if (!auth.ok) {
        log.warn({ reason: auth.reason }, 'connector refused');
        socket.end(`HTTP/1.1 ${der ? '403 Forbidden' : '401 Unauthorized'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => accept(ws, auth.connector.id, auth.connector.name));
    }).catch((err: unknown) => {
      log.error({ err }, 'connector upgrade failed');
      socket.destroy();
    });
  }

  function accept(ws: WebSocket, id: string, name: string): void {
    sockets.get(id)?.close(4000, 'replaced by a newer connection');
    sockets.set(id, ws);
    log.info({ connector: name }, 'connector connected');
    void connectors.heartbeat(id);
    ws.on('message', (data, isBinary) => {
      const frame = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      const parsed = isBinary ? { ok: false as const, reason: 'binary frames are not part of the protocol' } : decodeFrame(connectorMessage, frame);
      if (!parsed.ok) {
        log.warn({ connector: name, reason: parsed.reason }, 'connector message rejected');
        send(ws, { v: 1, type: 'error', message: parsed.reason });
        return;
      }
      const m = parsed.message;
      if (m.type === 'hello') void connectors.heartbeat(id, m.version);
      else if (m.type === 'heartbeat') {
        void connectors.heartbeat(id);
        send(ws, { v: 1, type: 'heartbeat-ack', at: new Date().toISOString() });
      } else {
        const o = m.outcome;
        const outcome = o.ok ? { ok: true as const, result: o.result } : { ok: false as const, message: o.error.message, retryable: o.error.retryable };
        jobs.finish(m.id, outcome).catch((err: unknown) => log.error({ err, job: m.id }, 'recording a connector result failed'));
      }
    });
    ws.on('close', () => {
      if (sockets.get(id) === ws) {
        sockets.delete(id);
        log.info({ connector: name }, 'connector disconnected');
        jobs.requeue(id, instance).catch((err: unknown) => log.error({ err }, 'requeue failed'));
      }
    });
    ws.on('error', (err) => log.warn({ err, connector: name }, 'connector socket error'));
  }

  let dispatching = false;
  async function dispatch(): Promise<void> {
    if (dispatching || sockets.size === 0) return;
    dispatching = true;
    try {
      const held = [...sockets.keys()];
      // Revocation on another instance: drop the socket here too.
      const revoked = await connectorDb(deps.db).selectFrom('connectors').select('id').where('id', 'in', held).where('status', '!=', 'active').execute();
      for (const r of revoked) drop(r.id);
      for (const row of await jobs.claim([...sockets.keys()], instance)) {
        const ws = sockets.get(row.connector_id);
        const spec = jobSpec.safeParse(row.payload['job']);
        if (!spec.success) {
          await jobs.finish(row.id, { ok: false, message: 'the stored job does not match the protocol', retryable: false });
          continue;
        }
        const connectionId = typeof row.payload['connectionId'] === 'string' ? row.payload['connectionId'] : undefined;
        const adcs = connectionId ? await deps.adcsOptions(connectionId) : undefined;
        if (!ws) {
          await jobs.requeue(row.connector_id, instance);
          continue;
        }
        send(ws, { v: 1, type: 'job', id: row.id, job: spec.data, ...(adcs ? { adcs } : {}) });
      }
    } catch (err) {
      log.error({ err }, 'connector job dispatch failed');
    } finally {
      dispatching = false;
    }
  }

  function drop(id: string): void {
    const ws = sockets.get(id);
    if (!ws) return;
    sockets.delete(id);
    ws.close(4003, 'connector revoked');
    ws.terminate();
  }

  server.on('upgrade', onUpgrade);
  connectors.onRevoke(drop);
  const timer = setInterval(() => void dispatch(), options.dispatchMs ?? 100);
  timer.unref();

  return {
    instance,
    online: (): string[] => [...sockets.keys()],
    dispatch,
    async close(): Promise<void> {
      clearInterval(timer);
      server.off('upgrade', onUpgrade);
      for (const ws of sockets.values()) ws.terminate();
      sockets.clear();
      wss.close();
    },
  };
}

export type ConnectorHub = ReturnType<typeof attachConnectorHub>;
