import fs from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AdcsSim } from '@certbridge/adcs-sim';
import { parseCertificate, pemDecodeAll } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { acmeDb } from '../src/enrollment/acme/acme-tables.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { SIM_PASSWORD, startSim } from './adcs-fixtures.ts';
import { startTestDnsServer, type TestDnsServer } from './acme-dns-server.ts';
import { freePort, tool } from './enrollment-fixtures.ts';

type SimRequest = { id: number; template: string; disposition: string; dispositionMessage: string };

/**
 * lego and certbot against a Certbridge profile whose ADCS template (adcs-sim `ManagerApproval`)
 * needs a CA manager. The client finalizes, the order stays `processing` while a "CA manager"
 * approves or denies through the sim's admin API; the client keeps polling and ends with the
 * certificate, or with the denial as its error. Client patience: lego polls every 0.5 s for
 * `--cert.timeout` (30 s by default; on until then even once the order is invalid), certbot
 * every second for 90 s, both ignoring Retry-After;
 * the server asks ADCS at most every 5 s per order while a client polls, so each wait is short.
 */
describe('ACME real clients with ADCS CA-manager approval', () => {
  let sim: AdcsSim;
  let server: RunningServer;
  let dns: TestDnsServer;
  let dataDir: string;
  let work: string;
  let directoryUrl: string;
  let http01Port: number;

  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${server.httpUrl}${p}`, {
      method, headers: { authorization: `Bearer ${server.bootstrap.adminToken}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  /** The sim's admin API over HTTPS (what a test harness or a CA manager script would call). */
  const simAdmin = (method: 'GET' | 'POST', p: string) => new Promise<unknown>((resolve, reject) => {
    const req = https.request(`${sim.baseUrl}${p}`, { method, ca: sim.tlsCaPem, headers: { authorization: `Bearer ${sim.adminToken}` } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => void (text += c.toString('utf8')));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`${method} ${p}: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    req.end();
  });

  beforeAll(async () => {
    for (const client of ['lego', 'certbot']) {
      if ((await tool('sh', ['-c', `command -v ${client}`], os.tmpdir())).code !== 0) throw new Error(`${client} is not installed: apt-get install -y lego certbot`);
    }
    sim = await startSim();
    dns = await startTestDnsServer();
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-acme-adcs-data-'));
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-acme-adcs-work-'));
    const httpsPort = await freePort();
    http01Port = await freePort();
    server = await startServer(loadConfig({
      CERTBRIDGE_DATA_DIR: dataDir, CERTBRIDGE_HTTP_PORT: '0', CERTBRIDGE_HTTPS_PORT: String(httpsPort), CERTBRIDGE_PUBLIC_URL: `https://127.0.0.1:${httpsPort}`,
      CERTBRIDGE_LOG_LEVEL: 'silent', CERTBRIDGE_ACME_HTTP01_PORT: String(http01Port), CERTBRIDGE_ACME_DNS_RESOLVER: dns.address,
    }));
    const connection = await api('POST', '/api/v1/connections', {
      name: 'sim', type: 'adcs', url: sim.url, domain: 'CORP', username: 'alice', password: SIM_PASSWORD, auth: 'basic', caPem: sim.tlsCaPem, timeoutMs: 5000,
    });
    // No quick retries: finalize answers at once with `processing` instead of holding the request.
    const ca = await api('POST', '/api/v1/cas/adcs', { name: 'corp-adcs', servers: [{ connection: connection['id'], priority: 1 }], settings: { quickRetries: 0 } });
    await api('POST', '/api/v1/profiles', { slug: 'adcs-approval', ca: ca['id'], policy: 'permissive', template: 'ManagerApproval' });
    await api('PATCH', '/api/v1/applications/default', { profiles: ['default-tls', 'adcs-approval'] });
    directoryUrl = `${server.httpsUrl}/acme/adcs-approval/directory`;
  }, 180_000);
  afterAll(async () => {
    await server?.close();
    await dns?.close();
    await sim?.stop();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  /** Waits until the sim holds a new pending request for the name, checks the ACME order is `processing`, then decides it. */
  async function decide(name: string, verdict: 'approve' | 'deny'): Promise<SimRequest> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const pending = (await simAdmin('GET', '/sim/requests?disposition=pending')) as SimRequest[];
      for (const r of pending.filter((x) => x.template === 'ManagerApproval')) {
        const order = await acmeDb(server.core.db).selectFrom('acme_orders').innerJoin('orders', 'orders.id', 'acme_orders.issuance_order_id')
          .select(['acme_orders.status', 'acme_orders.identifiers']).where('orders.ca_request_id', '=', String(r.id)).executeTakeFirst();
        if (order?.identifiers[0]?.value !== name) continue;
        expect(order.status).toBe('processing');
        await simAdmin('POST', `/sim/requests/${r.id}/${verdict}`);
        return (await simAdmin('GET', `/sim/requests/${r.id}`)) as SimRequest;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`no pending ADCS request for ${name} appeared`);
  }
  const acmeOrderStatus = async (requestId: number) => (await acmeDb(server.core.db).selectFrom('acme_orders').innerJoin('orders', 'orders.id', 'acme_orders.issuance_order_id')
    .select(['acme_orders.status', 'acme_orders.error']).where('orders.ca_request_id', '=', String(requestId)).executeTakeFirstOrThrow());

  const lego = (domain: string, timeoutSeconds = 60) => tool('lego', [
    `--server=${directoryUrl}`, '--email=ops@example.test', '--accept-tos', '--key-type=ec256', `--path=${path.join(work, 'lego')}`,
    `--domains=${domain}`, '--http', `--http.port=127.0.0.1:${http01Port}`, `--cert.timeout=${timeoutSeconds}`, 'run',
  ], work, { env: { LEGO_CA_CERTIFICATES: path.join(dataDir, 'ca.pem') }, timeoutMs: 120_000 });
  const certbot = (domain: string, dir: string) => tool('/usr/bin/certbot', [
    'certonly', '--non-interactive', '--agree-tos', '--register-unsafely-without-email', `--server=${directoryUrl}`,
    `--config-dir=${path.join(work, dir, 'c')}`, `--work-dir=${path.join(work, dir, 'w')}`, `--logs-dir=${path.join(work, dir, 'l')}`,
    '--standalone', '--http-01-address=127.0.0.1', `--http-01-port=${http01Port}`, '-d', domain,
  ], work, { env: { REQUESTS_CA_BUNDLE: path.join(dataDir, 'ca.pem') }, timeoutMs: 150_000 });
  const leafOf = async (file: string) => parseCertificate(pemDecodeAll(await fs.readFile(file, 'utf8'))[0]!);

  it('ok/lego waits through CA-manager approval and saves the ADCS-issued certificate', async () => {
    const domain = 'lego-approve.corp.test';
    const [run, request] = await Promise.all([lego(domain), decide(domain, 'approve')]);
    expect(run.code, run.out).toBe(0);
    const leaf = await leafOf(path.join(work, 'lego', 'certificates', `${domain}.crt`));
    expect([leaf.sans, leaf.issuerText === parseCertificate(pemDecodeAll(sim.issuingCaPem)[0]!).subjectText, (await acmeOrderStatus(request.id)).status]).toEqual([[{ type: 'dns', value: domain }], true, 'valid']);
  }, 150_000);

  it('fail/lego: a CA manager denies, the order ends invalid and lego reports the disposition', async () => {
    const domain = 'lego-deny.corp.test';
    // lego keeps polling an invalid order until --cert.timeout, then prints the order's error.
    const [run, request] = await Promise.all([lego(domain, 15), decide(domain, 'deny')]);
    const order = await acmeOrderStatus(request.id);
    expect([run.code !== 0, order.status, order.error?.type, order.error?.detail]).toEqual([true, 'invalid', 'urn:ietf:params:acme:error:unauthorized', `the CA denied the request: ${request.dispositionMessage}`]);
    expect(run.out).toContain(`the CA denied the request: ${request.dispositionMessage}`);
  }, 150_000);

  it('ok/certbot waits through CA-manager approval and saves the ADCS-issued certificate', async () => {
    const domain = 'certbot-approve.corp.test';
    const [run, request] = await Promise.all([certbot(domain, 'cb'), decide(domain, 'approve')]);
    expect(run.code, run.out).toBe(0);
    const leaf = await leafOf(path.join(work, 'cb', 'c', 'live', domain, 'cert.pem'));
    expect([leaf.sans, (await acmeOrderStatus(request.id)).status]).toEqual([[{ type: 'dns', value: domain }], 'valid']);
  }, 180_000);

  it('fail/certbot: a CA manager denies, certbot fails with the disposition', async () => {
    const domain = 'certbot-deny.corp.test';
    const [run, request] = await Promise.all([certbot(domain, 'cbd'), decide(domain, 'deny')]);
    const order = await acmeOrderStatus(request.id);
    expect([run.code !== 0, order.status]).toEqual([true, 'invalid']);
    // certbot prints the exception class; the order it got (JSON, as received) is in its debug log.
    expect(run.out).toContain('acme.errors.IssuanceError');
    const detail = JSON.stringify(`the CA denied the request: ${request.dispositionMessage}`);
    expect(await fs.readFile(path.join(work, 'cbd', 'l', 'letsencrypt.log'), 'utf8')).toContain(`"detail":${detail}`);
  }, 180_000);
});
