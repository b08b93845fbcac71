/**
 * Kerberos (SPNEGO) against a real MIT KDC started in a temp dir and an HTTPS acceptor in this
 * test built on the `kerberos` addon's server side with the HTTP/localhost keytab.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import kerberos from 'kerberos';
import { AdcsClient } from '../src/client.ts';
import { isAdcsError } from '../src/errors.ts';
import type { AdcsClientOptions } from '../src/options.ts';
import { kdcAvailable, startKdc, type TestKdc } from './helpers/kdc.ts';
import { createTestPki, type TestPki } from './helpers/pki.ts';
import { freePort } from './helpers/ports.ts';

describe('Kerberos against an MIT KDC', () => {
  let kdc: TestKdc;
  let pki: TestPki;
  let server: https.Server;
  let baseUrl: string;
  const saved = { KRB5_CONFIG: process.env.KRB5_CONFIG, KRB5_KTNAME: process.env.KRB5_KTNAME };

  beforeAll(async () => {
    if (!kdcAvailable()) throw new Error('Debian packages krb5-kdc, krb5-admin-server and krb5-user are required for this test');
    kdc = await startKdc({ users: { alice: 'Passw0rd!' }, serviceHost: 'localhost', userKeytabs: ['alice'] });
    process.env.KRB5_CONFIG = kdc.krb5Config;
    process.env.KRB5_KTNAME = `FILE:${kdc.keytab}`;
    pki = await createTestPki();
    const cert = await pki.issue({ dnsNames: ['localhost'], ips: ['127.0.0.1'] });
    server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
      const header = req.headers.authorization ?? '';
      if (!header.startsWith('Negotiate ')) {
        res.writeHead(401, { 'WWW-Authenticate': 'Negotiate' }).end();
        return;
      }
      kerberos.initializeServer('HTTP@localhost')
        .then(async (acceptor) => {
          await acceptor.step(header.slice('Negotiate '.length));
          res.writeHead(200, { 'Content-Type': 'text/html' }).end(`<html>user=${acceptor.username}</html>`);
        })
        .catch(() => res.writeHead(401, { 'WWW-Authenticate': 'Negotiate' }).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `https://localhost:${(server.address() as AddressInfo).port}/certsrv/`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await kdc?.stop();
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  });

  function client(overrides: Partial<AdcsClientOptions> = {}): AdcsClient {
    return new AdcsClient({
      baseUrl, username: 'alice', password: 'Passw0rd!', domain: kdc.realm, auth: 'kerberos',
      ca: pki.root.certPem, krb5Config: kdc.krb5Config, timeoutMs: 10_000, ...overrides,
    });
  }

  async function body(c: AdcsClient): Promise<string> {
    try {
      return (await c.get('', 'home')).body.toString();
    } finally {
      await c.close();
    }
  }

  it('ok/password-ticket-accepted', async () => {
    expect(await body(client())).toBe(`<html>user=alice@${kdc.realm}</html>`);
  });

  it('ok/keytab-ticket-accepted', async () => {
    expect(await body(client({ password: '', keytab: path.join(kdc.dir, 'alice.keytab') }))).toBe(`<html>user=alice@${kdc.realm}</html>`);
  });

  it('fail/wrong-password-refused-by-kdc', async () => {
    const err = await body(client({ password: 'wrong' })).catch((e: unknown) => e);
    expect(isAdcsError(err) ? [err.code, err.message.startsWith(`Kerberos ticket for alice@${kdc.realm} refused`)] : err).toEqual(['ADCS_AUTH_FAILED', true]);
  });

  it('fail/kdc-unreachable', async () => {
    const port = await freePort();
    const { writeFile } = await import('node:fs/promises');
    const conf = path.join(kdc.dir, 'unreachable.conf');
    await writeFile(conf, `[libdefaults]\n default_realm = ${kdc.realm}\n dns_lookup_kdc = false\n[realms]\n ${kdc.realm} = {\n  kdc = 127.0.0.1:${port}\n }\n`);
    const err = await body(client({ krb5Config: conf })).catch((e: unknown) => e);
    expect(isAdcsError(err) ? err.code : err).toBe('ADCS_UNAVAILABLE');
  });
});
