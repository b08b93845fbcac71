/**
 * The server's connection API and issuance path against real authentication peers, not only the
 * client's unit tests: Kerberos with a throwaway MIT KDC, NTLM against an emulator that requires
 * Extended Protection (channel binding), and NTLM against Apache mod_auth_gssapi + gss-ntlmssp
 * (an NTLMv2 verifier nobody here wrote) reverse-proxying to the emulator. For each:
 * `POST /connections/{id}/test` reports the login, and a certificate is issued through a profile.
 * Authentication does not depend on the database engine, so this runs on PGlite only.
 */
import { X509Certificate } from 'node:crypto';
import type { AdcsSim } from '@certbridge/adcs-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apacheAvailable, startApacheNtlm, type ApacheNtlm } from '../../adcs-client/test/helpers/apache-ntlm.ts';
import { kdcAvailable, startKdc, type TestKdc } from '../../adcs-client/test/helpers/kdc.ts';
import { createTestPki, type TestPki } from '../../adcs-client/test/helpers/pki.ts';
import { addAdcsCa, addAdcsProfile, addConnection, createAdcsEnv, csrPem, issue, SIM_PASSWORD, startSim, type AdcsEnv } from './adcs-fixtures.ts';

interface Peer {
  url: string;
  caPem: string;
  domain: string;
  auth: 'kerberos' | 'ntlm';
  /** The emulator that finally issues (behind Apache for the proxied peer). */
  sim: () => AdcsSim;
}

describe('ADCS authentication peers through the server API (pglite)', () => {
  let kdc: TestKdc;
  let pki: TestPki;
  let apache: ApacheNtlm;
  let kerberosSim: AdcsSim;
  let epaSim: AdcsSim;
  let behindApache: AdcsSim;
  let env: AdcsEnv;
  const savedKrb5 = process.env['KRB5_CONFIG'];
  const peers = new Map<string, Peer>();

  beforeAll(async () => {
    if (!kdcAvailable()) throw new Error('Debian packages krb5-kdc, krb5-admin-server and krb5-user are required for this test');
    if (!apacheAvailable()) throw new Error('Debian packages apache2, libapache2-mod-auth-gssapi and gss-ntlmssp are required for this test');
    kdc = await startKdc({ users: { alice: SIM_PASSWORD }, serviceHost: 'localhost' });
    // The server's pooled client takes its realm configuration from the process environment,
    // as a deployment would from /etc/krb5.conf.
    process.env['KRB5_CONFIG'] = kdc.krb5Config;
    kerberosSim = await startSim({ auth: { basic: false, ntlm: false, negotiate: true, keytab: kdc.keytab } });
    epaSim = await startSim({ auth: { basic: false, ntlm: true, epa: 'required' } });
    behindApache = await startSim({ auth: { basic: true, ntlm: false } });
    pki = await createTestPki('Apache NTLM Test Root');
    apache = await startApacheNtlm({
      server: await pki.issue({ ips: ['127.0.0.1'] }), users: [`CORP:alice:${SIM_PASSWORD}`],
      proxy: { target: behindApache.url.replace(/\/certsrv\/?$/, ''), targetCaPem: behindApache.tlsCaPem, authorization: `Basic ${Buffer.from(`CORP\\alice:${SIM_PASSWORD}`).toString('base64')}` },
    });
    env = await createAdcsEnv('pglite');
    peers.set('kerberos', { url: kerberosSim.url, caPem: kerberosSim.tlsCaPem, domain: kdc.realm, auth: 'kerberos', sim: () => kerberosSim });
    peers.set('epa', { url: epaSim.url, caPem: epaSim.tlsCaPem, domain: 'CORP', auth: 'ntlm', sim: () => epaSim });
    peers.set('apache', { url: `${apache.url}/certsrv/`, caPem: pki.root.certPem, domain: 'CORP', auth: 'ntlm', sim: () => behindApache });
  }, 60_000);
  afterAll(async () => {
    await env?.close();
    if (process.env['DEBUG_APACHE']) console.log(await apache?.errorLog());
    await apache?.stop();
    await Promise.all([kerberosSim?.stop(), epaSim?.stop(), behindApache?.stop()]);
    await kdc?.stop();
    if (savedKrb5 === undefined) delete process.env['KRB5_CONFIG']; else process.env['KRB5_CONFIG'] = savedKrb5;
  });

  it.each([
    ['ok/kerberos-with-a-real-mit-kdc', 'kerberos', { ok: true, auth: { ok: true, kind: 'kerberos' }, epaRequired: null, caName: 'corp-SIM-CA', templates: ['ManagerApproval', 'WebServer'] }],
    ['ok/ntlm-with-epa-required', 'epa', { ok: true, auth: { ok: true, kind: 'ntlm' }, epaRequired: true, caName: 'corp-SIM-CA', templates: ['ManagerApproval', 'WebServer'] }],
    ['ok/ntlm-against-apache-gss-ntlmssp', 'apache', { ok: true, auth: { ok: true, kind: 'ntlm' }, epaRequired: false, caName: 'corp-SIM-CA', templates: ['ManagerApproval', 'WebServer'] }],
  ] as const)('%s: test reports the login, then a certificate is issued', async (_name, key, expected) => {
    const peer = peers.get(key)!;
    const conn = await addConnection(env, peer.sim(), `peer-${key}`, { url: peer.url, caPem: peer.caPem, domain: peer.domain, auth: peer.auth, timeoutMs: 15_000 });
    const probe = (await env.api('POST', `/api/v1/connections/${conn}/test`)).json();
    expect({
      ok: probe.ok, auth: probe.auth, epaRequired: probe.epaRequired, caName: probe.caName,
      templates: probe.templates?.map((t: { name: string }) => t.name).sort(),
    }).toEqual(expected);

    const ca = await addAdcsCa(env, `peer-ca-${key}`, [conn]);
    await addAdcsProfile(env, `peer-web-${key}`, ca, 'WebServer');
    const cn = `${key}.peers.corp.example.test`;
    const res = await issue(env, { profile: `peer-web-${key}`, csr: csrPem(cn, [cn]) });
    const { order, certificate } = res.json();
    const cert = new X509Certificate(certificate.certificate);
    expect({ status: res.statusCode, order: order.status, subject: cert.subject, issuer: cert.issuer, requester: peer.sim().getRequest(Number(order.caRequestId))?.requester })
      .toEqual({ status: 201, order: 'issued', subject: `CN=${cn}`, issuer: new X509Certificate(peer.sim().issuingCaPem).subject, requester: 'CORP\\alice' });
  }, 60_000);

  it('fail/apache-gss-ntlmssp-refuses-a-wrong-password', async () => {
    const peer = peers.get('apache')!;
    const conn = await addConnection(env, peer.sim(), 'peer-apache-wrong', { url: peer.url, caPem: peer.caPem, auth: 'ntlm', password: 'not-the-password' });
    const probe = (await env.api('POST', `/api/v1/connections/${conn}/test`)).json();
    expect({ ok: probe.ok, tls: probe.tls.ok, auth: probe.auth.ok, code: probe.error.code, status: probe.error.httpStatus }).toEqual({ ok: false, tls: true, auth: false, code: 'ADCS_AUTH_FAILED', status: 401 });
  });
});
