/**
 * The connector agent against a real server (issue 7): certificate self-renewal over the socket
 * (new key generated on the connector, the old certificate honoured until the new one is used),
 * and `HTTPS_PROXY` through a tiny CONNECT proxy in the test that counts its tunnels.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AdcsSim } from '@certbridge/adcs-sim';
import { loadState, register, type ConnectorState, type Runner } from '@certbridge/connector';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIM_PASSWORD, startSim } from './adcs-fixtures.ts';
import { fastRunner, registeredConnector, startTestServer, type ServerHandle } from './connector-fixtures.ts';

/** An HTTP CONNECT proxy on 127.0.0.1 that counts the tunnels it opened and the authorities asked for. */
async function connectProxy(): Promise<{ url: string; tunnels: string[]; close(): Promise<void> }> {
  const tunnels: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.once('data', (head) => {
      const m = /^CONNECT ([^ ]+):(\d+) HTTP\/1\.1\r\n/.exec(head.toString('latin1'));
      if (!m) return void client.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n');
      tunnels.push(`${m[1]}:${m[2]}`);
      const upstream = net.connect(Number(m[2]), m[1]!, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(client).pipe(upstream);
      });
      sockets.add(upstream);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, tunnels, close: () => new Promise((resolve) => (sockets.forEach((s) => s.destroy()), server.close(() => resolve()))) };
}

/** The HTTP status a raw WebSocket upgrade with this state's certificate gets (101 when accepted). */
const upgradeStatus = (h: ServerHandle, state: ConnectorState) => new Promise<number>((resolve) => {
  const ws = new WebSocket(`${h.server.httpsUrl.replace('https:', 'wss:')}/connector/v1/ws`, { ca: state.serverCaPem, cert: state.certificatePem, key: state.keyPem });
  ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
  ws.on('open', () => (ws.terminate(), resolve(101)));
  ws.on('error', () => resolve(-1));
});

describe('connector agent: self-renewal and HTTPS_PROXY', () => {
  let sim: AdcsSim;
  let h: ServerHandle;
  let proxy: Awaited<ReturnType<typeof connectProxy>>;
  let runner: Runner | undefined;
  const dirs: string[] = [];
  const lines: string[] = [];

  beforeAll(async () => {
    sim = await startSim();
    h = await startTestServer('pglite', dirs);
    proxy = await connectProxy();
  });
  afterAll(async () => {
    await runner?.stop();
    await proxy?.close();
    await h?.close();
    await sim?.stop();
    await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  it('ok/renews-its-certificate-over-the-socket-with-a-new-local-key', async () => {
    const { state: old, dir, id } = await registeredConnector(h, 'renewing', dirs);
    // Renew at once: the window is longer than the 90-day certificate.
    runner = fastRunner(old, lines, dir, { renewBeforeMs: 365 * 86_400_000 });
    await runner.renewed();
    await runner.stop();
    const saved = await loadState(dir);
    const row = await h.server.core.connectors.service.require(id);
    const serial = (pem: string) => new X509Certificate(pem).serialNumber.toLowerCase();
    // Before the new certificate is used, the old one still opens the socket (a connector that died before saving).
    const oldBeforeUse = await upgradeStatus(h, old);
    const newStatus = await upgradeStatus(h, saved);
    const oldAfterUse = await upgradeStatus(h, old);
    expect({
      newKey: saved.keyPem !== old.keyPem, newSerial: serial(saved.certificatePem) !== serial(old.certificatePem),
      serverSerial: row.serial_hex === serial(saved.certificatePem), previous: row.previous_serial_hex === serial(old.certificatePem),
      oldBeforeUse, newStatus, oldAfterUse, keyMatches: new X509Certificate(saved.certificatePem).checkPrivateKey(createPrivateKey(saved.keyPem)),
    }).toEqual({ newKey: true, newSerial: true, serverSerial: true, previous: true, oldBeforeUse: 101, newStatus: 101, oldAfterUse: 403, keyMatches: true });
    runner = undefined;
  });

  it('ok/registers-and-runs-through-the-https-proxy-and-no-proxy-bypasses-it', async () => {
    const created = await h.api('POST', '/api/v1/connectors', { name: 'behind-proxy', site: 'DMZ' });
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-connector-proxy-'));
    dirs.push(dir);
    const env = { HTTPS_PROXY: proxy.url };
    const state = await register({ server: h.server.httpsUrl, token: String(created.body['registrationToken']), dir, env });
    const afterRegister = proxy.tunnels.length;
    runner = fastRunner(state, lines, dir, { env });
    await runner.connected();
    expect((await h.api('POST', '/api/v1/connections', { name: 'sim-proxy', type: 'adcs', url: sim.url, domain: 'CORP', username: 'alice', password: SIM_PASSWORD, auth: 'basic', caPem: sim.tlsCaPem, timeoutMs: 5000 })).status).toBe(201);
    const ca = await h.api('POST', '/api/v1/cas/connector', { name: 'ca-proxy', connector: 'behind-proxy', servers: [{ connection: 'sim-proxy', priority: 1 }], jobTimeoutSeconds: 10 });
    const templates = await h.api('GET', `/api/v1/cas/${String(ca.body['id'])}/templates?refresh=true`);
    await runner.stop();
    const beforeBypass = proxy.tunnels.length;
    runner = fastRunner(state, lines, dir, { env: { ...env, NO_PROXY: '127.0.0.1' } });
    await runner.connected();
    const authority = new URL(h.server.httpsUrl).host;
    expect({
      registerTunnels: afterRegister, runTunnels: beforeBypass - afterRegister, authorities: [...new Set(proxy.tunnels)], bypass: proxy.tunnels.length - beforeBypass,
      templates: (templates.body['items'] as { name: string }[]).map((t) => t.name), logged: lines.some((l) => l.endsWith('as behind-proxy through the HTTPS proxy')),
    }).toEqual({ registerTunnels: 2, runTunnels: 1, authorities: [authority], bypass: 0, templates: ['ManagerApproval', 'WebServer'], logged: true });
  });
});
