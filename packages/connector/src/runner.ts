import WebSocket from 'ws';
import { backoffDelay } from './backoff.ts';
import { createJobHandlers } from './handlers.ts';
import { decodeFrame, HEARTBEAT_INTERVAL_MS, serverMessage, type ConnectorMessage } from './protocol.ts';
import type { ConnectorState } from './state.ts';
import { CONNECTOR_VERSION } from './version.ts';

export interface RunnerOptions {
  heartbeatMs?: number;
  backoff?: { baseMs?: number; maxMs?: number; random?: () => number };
  /** Plain log lines (default: stdout with an ISO timestamp). */
  log?: (line: string) => void;
}

const defaultLog = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

/**
 * `certbridge-connector run`: keeps `wss://<server>/connector/v1/ws` open with the client
 * certificate from registration and the pinned server CA, heartbeats, and answers jobs. On any
 * close it reconnects with exponential backoff and jitter; a refused certificate (revoked) is
 * retried too, slowly, so a re-enabled connector comes back without a restart.
 */
export function startRunner(state: ConnectorState, options: RunnerOptions = {}) {
  const log = options.log ?? defaultLog;
  const handlers = createJobHandlers();
  let attempt = 0;
  let stopped = false;
  let ws: WebSocket | undefined;
  let retry: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  const connectedListeners: (() => void)[] = [];

  const send = (socket: WebSocket, m: ConnectorMessage) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(m));
  };

  function connect(): void {
    const url = `${state.server.replace(/^https:/, 'wss:')}/connector/v1/ws`;
    const socket = new WebSocket(url, { ca: state.serverCaPem, cert: state.certificatePem, key: state.keyPem, handshakeTimeout: 15_000 });
    ws = socket;
    socket.on('open', () => {
      attempt = 0;
      log(`connected to ${url} as ${state.name}`);
      send(socket, { v: 1, type: 'hello', version: CONNECTOR_VERSION });
      heartbeat = setInterval(() => send(socket, { v: 1, type: 'heartbeat', at: new Date().toISOString() }), options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS);
      for (const l of connectedListeners.splice(0)) l();
    });
    socket.on('unexpected-response', (_req, res) => {
      log(`server refused the connection: HTTP ${res.statusCode} (revoked or unknown certificate?)`);
      socket.terminate();
    });
    socket.on('message', (data) => {
      const parsed = decodeFrame(serverMessage, Buffer.isBuffer(data) ? data : Buffer.from(String(data)));
      if (!parsed.ok) {
        log(`ignored a server message: ${parsed.reason}`);
        return;
      }
      const m = parsed.message;
      if (m.type === 'error') log(`server rejected a message: ${m.message}`);
      if (m.type !== 'job') return;
      log(`job ${m.id} ${m.job.kind}`);
      void handlers.handle(m.job, m.adcs).then((answer) => {
        log(`job ${m.id} ${answer.ok ? 'done' : `failed: ${answer.error.message}`}`);
        send(socket, { v: 1, type: 'result', id: m.id, outcome: answer });
      });
    });
    socket.on('error', (err) => log(`connection error: ${err.message}`));
    socket.on('close', (code) => {
      clearInterval(heartbeat);
      if (stopped) return;
      const delay = backoffDelay(attempt++, options.backoff);
      log(`disconnected (${code}); reconnecting in ${delay} ms`);
      retry = setTimeout(connect, delay);
    });
  }

  connect();
  return {
    /** Resolves on the next successful connection. */
    connected: () => new Promise<void>((resolve) => (ws?.readyState === WebSocket.OPEN ? resolve() : connectedListeners.push(resolve))),
    /** Test hook: send raw text on the socket. */
    sendRaw: (text: string) => ws?.send(text),
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(retry);
      clearInterval(heartbeat);
      ws?.terminate();
      await handlers.close();
    },
  };
}

export type Runner = ReturnType<typeof startRunner>;
