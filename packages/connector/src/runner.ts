import { X509Certificate } from 'node:crypto';
import WebSocket from 'ws';
import { backoffDelay } from './backoff.ts';
import { createJobExecutor } from './executor.ts';
import { decodeFrame, HEARTBEAT_INTERVAL_MS, serverMessage, type ConnectorMessage } from './protocol.ts';
import { agentFor } from './proxy.ts';
import { certifiesKey, renewalDue, renewalRequest } from './renewal.ts';
import { saveState, type ConnectorState } from './state.ts';
import { CONNECTOR_VERSION } from './version.ts';

export interface RunnerOptions {
  /** The state directory: journal of jobs, and where a renewed certificate is saved. */
  stateDir: string;
  heartbeatMs?: number;
  backoff?: { baseMs?: number; maxMs?: number; random?: () => number };
  /** Renew the client certificate when it expires within this long (default: a third of its lifetime). */
  renewBeforeMs?: number;
  /** How often the certificate's expiry is looked at while connected. */
  renewCheckMs?: number;
  /** Environment for HTTPS_PROXY / NO_PROXY and the certutil overrides (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Plain log lines (default: stdout with an ISO timestamp). */
  log?: (line: string) => void;
}

const defaultLog = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

/**
 * `certbridge-connector run`: keeps `wss://<server>/connector/v1/ws` open with the client
 * certificate from registration and the pinned server CA (through `HTTPS_PROXY` when set),
 * heartbeats, answers jobs, and renews its certificate before expiry. On any close it
 * reconnects with exponential backoff and jitter; a refused certificate (revoked) is retried
 * too, slowly, so a re-enabled connector comes back without a restart.
 */
export function startRunner(initial: ConnectorState, options: RunnerOptions) {
  const log = options.log ?? defaultLog;
  let state = initial;
  let attempt = 0;
  let stopped = false;
  let ws: WebSocket | undefined;
  let retry: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let renewTimer: NodeJS.Timeout | undefined;
  let renewing: { keyPem: string } | undefined;
  const connectedListeners: (() => void)[] = [];
  const renewedListeners: (() => void)[] = [];

  /** Answers go out on whatever socket is open now: a job that outlived its socket is answered on the next one. */
  const send = (m: ConnectorMessage): boolean => {
    if (ws?.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(m));
    return true;
  };
  const executor = createJobExecutor({ stateDir: options.stateDir, log, env: options.env ?? process.env, answer: (id, outcome) => send({ v: 1, type: 'result', id, outcome }) });

  function maybeRenew(): void {
    if (renewing || !renewalDue(state.certificatePem, Date.now(), options.renewBeforeMs)) return;
    const req = renewalRequest(state.id);
    renewing = { keyPem: req.keyPem };
    log('client certificate renewal requested (new key generated locally)');
    if (!send({ v: 1, type: 'renew', csr: req.csrPem })) renewing = undefined;
  }

  async function renewed(certificatePem: string): Promise<void> {
    const pending = renewing;
    renewing = undefined;
    if (!pending || !certifiesKey(certificatePem, pending.keyPem)) return log('ignored a renewed certificate that does not match the key generated for it');
    const next = { ...state, keyPem: pending.keyPem, certificatePem };
    await saveState(options.stateDir, next);
    state = next;
    log(`client certificate renewed; valid until ${new Date(new X509Certificate(certificatePem).validTo).toISOString()}`);
    for (const l of renewedListeners.splice(0)) l();
  }

  function connect(): void {
    const url = `${state.server.replace(/^https:/, 'wss:')}/connector/v1/ws`;
    const agent = agentFor(new URL(state.server), options.env);
    const socket = new WebSocket(url, { ca: state.serverCaPem, cert: state.certificatePem, key: state.keyPem, handshakeTimeout: 15_000, ...(agent ? { agent } : {}) });
    ws = socket;
    socket.on('open', () => {
      attempt = 0;
      log(`connected to ${url} as ${state.name}${agent ? ' through the HTTPS proxy' : ''}`);
      send({ v: 1, type: 'hello', version: CONNECTOR_VERSION });
      heartbeat = setInterval(() => send({ v: 1, type: 'heartbeat', at: new Date().toISOString() }), options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS);
      renewTimer = setInterval(maybeRenew, options.renewCheckMs ?? 3_600_000);
      maybeRenew();
      for (const l of connectedListeners.splice(0)) l();
    });
    socket.on('unexpected-response', (_req, res) => {
      log(`server refused the connection: HTTP ${res.statusCode} (revoked or unknown certificate?)`);
      socket.terminate();
    });
    socket.on('message', (data) => {
      const parsed = decodeFrame(serverMessage, Buffer.isBuffer(data) ? data : Buffer.from(String(data)));
      if (!parsed.ok) return log(`ignored a server message: ${parsed.reason}`);
      const m = parsed.message;
      if (m.type === 'error') {
        if (m.message.startsWith('renewal refused')) renewing = undefined;
        return log(`server rejected a message: ${m.message}`);
      }
      if (m.type === 'renewed') return void renewed(m.certificatePem).catch((err: Error) => log(`saving the renewed certificate failed: ${err.message}`));
      if (m.type === 'job') executor.run(m.id, m.job, m.adcs);
    });
    socket.on('error', (err) => log(`connection error: ${err.message}`));
    socket.on('close', (code) => {
      clearInterval(heartbeat);
      clearInterval(renewTimer);
      renewing = undefined;
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
    /** Resolves when the next certificate renewal has been saved. */
    renewed: () => new Promise<void>((resolve) => renewedListeners.push(resolve)),
    state: (): ConnectorState => state,
    /** Test hook: send raw text on the socket. */
    sendRaw: (text: string) => ws?.send(text),
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(retry);
      clearInterval(heartbeat);
      clearInterval(renewTimer);
      ws?.terminate();
      await executor.close();
    },
  };
}

export type Runner = ReturnType<typeof startRunner>;
