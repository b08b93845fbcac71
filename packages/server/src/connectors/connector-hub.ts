import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { connectorMessage, decodeFrame, MAX_MESSAGE_BYTES, type ConnectorMessage, type ServerMessage } from '@certbridge/connector/protocol';
import type { Database } from '../db/schema.ts';
import type { ConnectorAdcsOptions } from './adcs-options.ts';
import type { ConnectorJobs } from './connector-jobs.ts';
import { createConnectorPool } from './connector-pool.ts';
import type { ConnectorsService } from './connectors-service.ts';
import { connectorDb } from './connectors-tables.ts';

export const CONNECTOR_WS_PATH = '/connector/v1/ws';

export interface HubOptions {
  /** How often this instance looks for queued jobs of the connectors it holds. */
  dispatchMs?: number;
  /** How long close() waits for work already started (a message being handled) before it gives up on it. */
  drainMs?: number;
}

const DRAIN_MS = 10_000;

interface Held { ws: WebSocket; name: string; serialHex: string }

/**
 * The `wss://…/connector/v1/ws` endpoint on the HTTPS listener (ws in noServer mode). The TLS
 * client certificate is checked at the upgrade (Connector CA, connector active, current serial);
 * anything else gets a 401/403 before any WebSocket exists. Jobs reach the socket from the
 * database (connector-jobs.ts), so the instance that created a job need not hold the socket.
 * A connector only ever sees and answers jobs queued for its own id: the CA → connector
 * assignment is decided when the job is queued, and an answer for another connector's job is
 * refused here.
 */
export function attachConnectorHub(server: Server, deps: { db: Kysely<Database>; connectors: ConnectorsService; jobs: ConnectorJobs; adcsOptions: ConnectorAdcsOptions; log: Logger }, options: HubOptions = {}) {
  const { connectors, jobs, log } = deps;
  const instance = randomUUID();
  // Frames over the protocol limit are answered, not fatal: ws itself only closes at 4x the limit.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 * MAX_MESSAGE_BYTES });
  const sockets = new Map<string, Held>();
  const pool = createConnectorPool({ service: connectors, jobs });

  const send = (ws: WebSocket, message: ServerMessage) => ws.send(JSON.stringify(message));

  // Work started by a message, an upgrade or a dispatch is still using the database when the
  // server stops: close() waits for it, so the database is not closed under it (a message being
  // handled then failed with "driver has already been destroyed", and its answer was recorded only
  // when the job was delivered again).
  const running = new Set<Promise<unknown>>();
  let closing = false;
  const track = (work: Promise<unknown>): void => {
    running.add(work);
    const done = () => running.delete(work);
    work.then(done, done);
  };

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (new URL(req.url ?? '/', 'https://x').pathname !== CONNECTOR_WS_PATH) return;
    if (closing) return void socket.destroy();
    const tls = socket as Partial<TLSSocket>;
    const cert = typeof tls.getPeerCertificate === 'function' ? tls.getPeerCertificate(false) : undefined;
    const der = cert && cert.raw ? new Uint8Array(cert.raw) : undefined;
    track(connectors.authenticate(der).then((auth) => {
      if (!auth.ok) {
        log.warn({ reason: auth.reason }, 'connector refused');
        socket.end(`HTTP/1.1 ${der ? '403 Forbidden' : '401 Unauthorized'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        track(accept(ws, auth.connector.id, { ws, name: auth.connector.name, serialHex: auth.serialHex }).catch((err: unknown) => {
          log.error({ err }, 'connector accept failed');
          ws.terminate();
        }));
      });
    }).catch((err: unknown) => {
      log.error({ err }, 'connector upgrade failed');
      socket.destroy();
    }));
  }

  async function accept(ws: WebSocket, id: string, held: Held): Promise<void> {
    ws.on('message', (data, isBinary) => {
      const frame = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      const parsed = isBinary ? { ok: false as const, reason: 'binary frames are not part of the protocol' } : decodeFrame(connectorMessage, frame);
      if (!parsed.ok) return reject(ws, held.name, parsed.reason);
      track(onMessage(ws, id, held, parsed.message).catch((err: unknown) => log.error({ err, connector: held.name }, 'handling a connector message failed')));
    });
    ws.on('close', () => {
      if (sockets.get(id)?.ws === ws) {
        sockets.delete(id);
        log.info({ connector: held.name }, 'connector disconnected');
        // Jobs of a pool CA go to another online member; the others wait for this connector.
        track(jobs.requeue(id, instance)
          .then(() => jobs.handOver({ id, name: held.name }, async (others) => {
            const picked = await pool.choose(others);
            return picked.online ? picked.chosen?.id : undefined;
          }))
          .then((moved) => moved && log.info({ connector: held.name, moved }, 'jobs handed to another connector of the pool'))
          .catch((err: unknown) => log.error({ err }, 'requeue failed')));
      }
    });
    ws.on('error', (err) => log.warn({ err, connector: held.name }, 'connector socket error'));
    // Jobs left `sent` by a socket that died with its server instance (kill -9) are delivered
    // again on this one (before it can be dispatched to); the connector answers a job it already
    // ran from its journal.
    await connectors.heartbeat(id);
    const again = await jobs.requeue(id);
    if (closing) return void ws.terminate(); // accepted while the hub closed: not kept
    if (ws.readyState !== ws.OPEN) return;
    sockets.get(id)?.ws.close(4000, 'replaced by a newer connection');
    sockets.set(id, held);
    log.info({ connector: held.name, requeued: again }, 'connector connected');
  }

  function reject(ws: WebSocket, name: string, reason: string, jobId?: string): void {
    log.warn({ connector: name, reason, ...(jobId ? { job: jobId } : {}) }, 'connector message rejected');
    send(ws, { v: 1, type: 'error', message: reason, ...(jobId ? { id: jobId } : {}) });
  }

  async function onMessage(ws: WebSocket, id: string, held: Held, m: ConnectorMessage): Promise<void> {
    if (m.type === 'hello') return connectors.heartbeat(id, m.version);
    if (m.type === 'heartbeat') {
      await connectors.heartbeat(id);
      return send(ws, { v: 1, type: 'heartbeat-ack', at: new Date().toISOString() });
    }
    if (m.type === 'renew') {
      const renewed = await connectors.renewCertificate(id, held.serialHex, m.csr).catch((err: unknown) => err instanceof Error ? err : new Error(String(err)));
      if (renewed instanceof Error) return reject(ws, held.name, `renewal refused: ${renewed.message}`);
      log.info({ connector: held.name, notAfter: renewed.notAfter }, 'connector certificate renewed');
      return send(ws, { v: 1, type: 'renewed', certificatePem: renewed.certificatePem });
    }
    const o = m.outcome;
    const outcome = o.ok ? { ok: true as const, result: o.result } : { ok: false as const, message: o.error.message, retryable: o.error.retryable, ...(o.error.answerLost ? { answerLost: true } : {}) };
    const row = await jobs.finish(m.id, outcome, id);
    if (row) return;
    const job = await jobs.get(m.id);
    // A re-delivered job answered twice (journal replay after a race) is harmless; anything else is refused.
    if (job?.connector_id === id) return;
    reject(ws, held.name, `job ${m.id} is not a job of this connector`, m.id);
  }

  let dispatching = false;
  let again = false;
  async function dispatch(): Promise<void> {
    if (sockets.size === 0 || closing) return;
    if (dispatching) {
      again = true;
      return;
    }
    dispatching = true;
    again = false;
    try {
      const held = [...sockets.keys()];
      // Revocation on another instance: drop the socket here too.
      const revoked = await connectorDb(deps.db).selectFrom('connectors').select('id').where('id', 'in', held).where('status', '!=', 'active').execute();
      for (const r of revoked) drop(r.id);
      for (const row of await jobs.claim([...sockets.keys()], instance)) {
        const target = sockets.get(row.connector_id);
        const spec = jobs.specOf(row);
        if (!spec) {
          await jobs.finish(row.id, { ok: false, message: 'the stored job does not match the protocol', retryable: false });
          continue;
        }
        const connectionId = typeof row.payload['connectionId'] === 'string' ? row.payload['connectionId'] : undefined;
        const adcs = connectionId ? await deps.adcsOptions(connectionId) : undefined;
        if (!target) {
          await jobs.requeue(row.connector_id, instance);
          continue;
        }
        send(target.ws, { v: 1, type: 'job', id: row.id, job: spec, ...(adcs ? { adcs } : {}) });
      }
    } catch (err) {
      log.error({ err }, 'connector job dispatch failed');
    } finally {
      dispatching = false;
    }
    if (again) await dispatch();
  }

  function drop(id: string): void {
    const held = sockets.get(id);
    if (!held) return;
    sockets.delete(id);
    held.ws.close(4003, 'connector revoked');
    held.ws.terminate();
  }

  server.on('upgrade', onUpgrade);
  connectors.onRevoke(drop);
  jobs.onEnqueued(() => track(dispatch()));
  const timer = setInterval(() => track(dispatch()), options.dispatchMs ?? 100);
  timer.unref();

  return {
    instance,
    online: (): string[] => [...sockets.keys()],
    dispatch,
    /** Stops taking connectors and messages, then waits (at most drainMs) for the work already started. */
    async close(): Promise<void> {
      closing = true;
      clearInterval(timer);
      server.off('upgrade', onUpgrade);
      for (const h of sockets.values()) h.ws.terminate();
      sockets.clear();
      wss.close();
      const deadline = Date.now() + (options.drainMs ?? DRAIN_MS);
      // Work may start more work (a dispatch after an answer): wait until none is left.
      while (running.size && Date.now() < deadline) {
        let timeout: NodeJS.Timeout | undefined;
        const left = new Promise<void>((resolve) => { timeout = setTimeout(resolve, deadline - Date.now()); });
        await Promise.race([Promise.allSettled([...running]), left]);
        clearTimeout(timeout);
      }
      if (running.size) log.warn({ running: running.size }, 'connector hub closed with work still running');
    },
  };
}

export type ConnectorHub = ReturnType<typeof attachConnectorHub>;
