import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';

/**
 * The proxy for a connection to `target` from `HTTPS_PROXY`/`https_proxy`, unless `NO_PROXY`/
 * `no_proxy` names the host: `*`, an exact host, or a domain suffix (`.corp.example` or
 * `corp.example` both match `a.corp.example`), optionally with `:port`. Curl's rules, which
 * administrators already use for every other tool on the machine.
 */
export function proxyFor(target: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const raw = env['HTTPS_PROXY'] ?? env['https_proxy'];
  if (!raw) return undefined;
  const host = target.hostname.toLowerCase();
  const port = target.port || '443';
  const noProxy = (env['NO_PROXY'] ?? env['no_proxy'] ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  for (const rule of noProxy) {
    if (rule === '*') return undefined;
    const [ruleHost = '', rulePort] = rule.split(/:(?=\d+$)/);
    if (rulePort && rulePort !== port) continue;
    const bare = ruleHost.replace(/^\*?\./, '');
    if (host === bare || host.endsWith(`.${bare}`)) return undefined;
  }
  return new URL(/^[a-z]+:\/\//i.test(raw) ? raw : `http://${raw}`);
}

/** Opens a TCP tunnel to `host:port` through an HTTP CONNECT proxy (RFC 9110 section 9.3.6). */
export function connectTunnel(proxy: URL, host: string, port: number, timeoutMs = 15_000): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const proxyPort = Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80));
    const socket: net.Socket = proxy.protocol === 'https:' ? tls.connect({ host: proxy.hostname, port: proxyPort, servername: proxy.hostname }) : net.connect({ host: proxy.hostname, port: proxyPort });
    const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const auth = proxy.username ? `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}\r\n` : '';
    let head = Buffer.alloc(0);
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`proxy ${proxy.host} did not answer CONNECT within ${timeoutMs} ms`)));
    socket.once('error', fail);
    socket.once(proxy.protocol === 'https:' ? 'secureConnect' : 'connect', () => socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth}\r\n`));
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 16 * 1024) fail(new Error(`proxy ${proxy.host} sent an oversized CONNECT answer`));
        return;
      }
      socket.off('data', onData);
      socket.off('error', fail);
      socket.setTimeout(0);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'))?.[1];
      if (status !== '200') return fail(new Error(`proxy ${proxy.host} refused CONNECT ${authority}: HTTP ${status ?? '(no status line)'}`));
      const rest = head.subarray(end + 4);
      if (rest.length) socket.unshift(rest);
      resolve(socket);
    };
    socket.on('data', onData);
  });
}

/**
 * An https.Agent whose connections go through the CONNECT proxy; TLS (with the connector's client
 * certificate and pinned CA) runs end to end inside the tunnel, so the proxy sees only ciphertext.
 */
export class TunnelAgent extends https.Agent {
  constructor(private readonly proxy: URL) {
    super({ keepAlive: false });
  }

  override createConnection(options: tls.ConnectionOptions, callback: (err: Error | null, socket?: Duplex) => void): undefined {
    const host = options.host ?? 'localhost';
    connectTunnel(this.proxy, host, Number(options.port ?? 443)).then((socket) => {
      const secure = tls.connect({ ...options, socket, servername: options.servername ?? (net.isIP(host) ? undefined : host) });
      callback(null, secure);
    }, (err: Error) => callback(err));
    return undefined;
  }
}

/** The agent for a connection to `target`: a tunnel when a proxy applies, else none. */
export const agentFor = (target: URL, env: NodeJS.ProcessEnv = process.env): https.Agent | undefined => {
  const proxy = proxyFor(target, env);
  return proxy ? new TunnelAgent(proxy) : undefined;
};
