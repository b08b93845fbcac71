/**
 * Kerberos and Negotiate end to end against the emulator in Kerberos-only mode and in
 * Negotiate+NTLM mode, with tickets from a throwaway MIT KDC.
 */
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdcsSim } from '@certbridge/adcs-sim';
import { AdcsClient } from '../src/client.ts';
import { isAdcsError } from '../src/errors.ts';
import type { AdcsClientOptions } from '../src/options.ts';
import { makeCsr } from './helpers/csr.ts';
import { kdcAvailable, startKdc, type TestKdc } from './helpers/kdc.ts';
import { PASSWORD, startSim } from './helpers/sim.ts';
import { freePort } from './helpers/ports.ts';

describe('Kerberos against adcs-sim', () => {
  let kdc: TestKdc;
  let kerberosOnly: AdcsSim;
  let mixed: AdcsSim;
  let csr: string;
  let deadKdcConfig: string;
  const clients: AdcsClient[] = [];
  const saved = process.env.KRB5_CONFIG;

  beforeAll(async () => {
    if (!kdcAvailable()) throw new Error('Debian packages krb5-kdc, krb5-admin-server and krb5-user are required for this test');
    kdc = await startKdc({ users: { alice: PASSWORD }, serviceHost: 'localhost' });
    process.env.KRB5_CONFIG = kdc.krb5Config;
    kerberosOnly = await startSim({ auth: { ntlm: false, basic: false, negotiate: true, keytab: kdc.keytab } });
    mixed = await startSim({ auth: { ntlm: true, basic: false, negotiate: true, keytab: kdc.keytab } });
    csr = await makeCsr('web3.corp.example.test', ['web3.corp.example.test']);
    deadKdcConfig = path.join(kdc.dir, 'dead-kdc.conf');
    await writeFile(deadKdcConfig, `[libdefaults]\n default_realm = ${kdc.realm}\n dns_lookup_kdc = false\n[realms]\n ${kdc.realm} = {\n  kdc = 127.0.0.1:${await freePort()}\n }\n`);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all([kerberosOnly?.stop(), mixed?.stop()]);
    await kdc?.stop();
    if (saved === undefined) delete process.env.KRB5_CONFIG; else process.env.KRB5_CONFIG = saved;
  });

  function client(sim: AdcsSim, overrides: Partial<AdcsClientOptions>): AdcsClient {
    const c = new AdcsClient({
      baseUrl: sim.url, username: 'alice', password: PASSWORD, domain: kdc.realm, auth: 'kerberos',
      ca: sim.tlsCaPem, krb5Config: kdc.krb5Config, timeoutMs: 10_000, ...overrides,
    });
    clients.push(c);
    return c;
  }

  async function subject(c: AdcsClient): Promise<string> {
    const r = await c.submit({ csrPem: csr, template: 'WebServer' });
    return r.status === 'issued' ? new X509Certificate(r.certificatePem).subject : JSON.stringify(r);
  }

  it.each([
    ['ok/kerberos-only-server-issues', () => kerberosOnly, 'kerberos'],
    ['ok/negotiate-uses-kerberos', () => kerberosOnly, 'negotiate'],
  ] as const)('%s', async (_name, sim, auth) => {
    expect(await subject(client(sim(), { auth }))).toBe('CN=web3.corp.example.test');
  });

  it('ok/negotiate-falls-back-to-ntlm-without-kdc', async () => {
    expect(await subject(client(mixed, { auth: 'negotiate', domain: 'CORP', krb5Config: deadKdcConfig }))).toBe('CN=web3.corp.example.test');
  });

  it('fail/ntlm-against-kerberos-only-server-says-so', async () => {
    const err = await client(kerberosOnly, { auth: 'ntlm', domain: 'CORP' }).templates().catch((e: unknown) => e);
    expect(isAdcsError(err) ? [err.code, err.message] : err).toEqual(['ADCS_AUTH_FAILED', 'the server does not offer NTLM authentication (it offers Negotiate)']);
  });
});
