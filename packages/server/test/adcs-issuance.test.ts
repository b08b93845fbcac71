/**
 * Issuance through an ADCS CA against adcs-sim (real HTTPS, Basic and NTLM): immediate issuance,
 * CA-manager approval with the background poll, denial, templates, cancel, revocation.
 */
import { X509Certificate } from 'node:crypto';
import type { AdcsSim } from '@certbridge/adcs-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAdcsCa, addAdcsProfile, addConnection, createAdcsEnv, csrPem, issue, startSim, type AdcsEnv } from './adcs-fixtures.ts';
import { ENGINES } from './helpers.ts';
import { QUICK_RETRY_DELAYS_MS } from '../src/ca-backends/adcs/pending-schedule.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;

describe.each(ENGINES)('ADCS issuance on %s', (engine) => {
  let sim: AdcsSim;
  let env: AdcsEnv;
  let caId: string;
  let basicConn: string;

  beforeAll(async () => {
    sim = await startSim();
    env = await createAdcsEnv(engine);
    basicConn = await addConnection(env, sim, 'sim-basic');
    const ntlmConn = await addConnection(env, sim, 'sim-ntlm', { auth: 'ntlm' });
    caId = await addAdcsCa(env, 'corp-adcs', [basicConn]);
    const ntlmCa = await addAdcsCa(env, 'corp-adcs-ntlm', [ntlmConn]);
    await addAdcsProfile(env, 'adcs-web', caId, 'WebServer');
    await addAdcsProfile(env, 'adcs-web-ntlm', ntlmCa, 'WebServer');
    await addAdcsProfile(env, 'adcs-approval', caId, 'ManagerApproval', { pendingLifetimeDays: 2 });
  });
  afterAll(async () => {
    await env?.close();
    await sim?.stop();
  });

  it.each([
    ['ok/issued-over-basic', 'adcs-web', 'basic.corp.example.test'],
    ['ok/issued-over-ntlm', 'adcs-web-ntlm', 'ntlm.corp.example.test'],
  ])('%s', async (_name, profile, cn) => {
    const res = await issue(env, { profile, csr: csrPem(cn, [cn]) });
    expect(res.statusCode).toBe(201);
    const { order, certificate } = res.json();
    expect({ status: order.status, template: order.template, subject: new X509Certificate(certificate.certificate).subject, issuer: new X509Certificate(certificate.certificate).issuer })
      .toEqual({ status: 'issued', template: 'WebServer', subject: `CN=${cn}`, issuer: new X509Certificate(sim.issuingCaPem).subject });
    expect(sim.getRequest(Number(order.caRequestId))?.template).toBe('WebServer');
  });

  it('ok/ntlm-handshake-once-per-pooled-socket', async () => {
    for (let i = 0; i < 5; i++) expect((await issue(env, { profile: 'adcs-web-ntlm', csr: csrPem(`seq${i}.corp.example.test`) })).statusCode).toBe(201);
    const conn = await env.core.connections.require('sim-ntlm');
    expect(await env.core.adcs.runtime.pool.client(conn).counters()).toMatchObject({ handshakes: 1 });
  });

  it('ok/server-generated-key-is-sent-as-a-csr', async () => {
    const res = await issue(env, { profile: 'adcs-web', subject: { commonName: 'keygen.corp.example.test' }, sans: ['dns:keygen.corp.example.test'] });
    expect(res.statusCode).toBe(201);
    expect(res.json().certificate.hasServerGeneratedKey).toBe(true);
  });

  it('ok/requested-validity-is-sent-as-expiration-date', async () => {
    const res = await issue(env, { profile: 'adcs-web', csr: csrPem('validity.corp.example.test'), validityDays: 30 });
    const cert = new X509Certificate(res.json().certificate.certificate);
    expect({ days: Math.round((new Date(cert.validTo).getTime() - env.clock.now().getTime()) / DAY), warning: res.json().order.warning }).toEqual({ days: 30, warning: null });
  });

  it('ok/expiration-date-ignored-by-the-ca-is-a-warning-on-the-order', async () => {
    sim.setCaFlags({ attributeEndDate: false, attributeSubjectAltName2: false });
    try {
      const res = await issue(env, { profile: 'adcs-web', csr: csrPem('ignored.corp.example.test'), validityDays: 30 });
      expect({ status: res.statusCode, warning: res.json().order.warning?.split(' (')[0] }).toEqual({ status: 201, warning: 'the CA ignored the requested validity' });
    } finally {
      sim.setCaFlags({ attributeEndDate: true, attributeSubjectAltName2: false });
    }
  });

  it('ok/ca-certificate-is-the-adcs-issuing-ca', async () => {
    const res = await env.api('GET', `/api/v1/cas/${caId}`);
    expect({ type: res.json().type, subject: res.json().subject }).toEqual({ type: 'adcs', subject: 'DC=test, DC=example, DC=corp, CN=corp-SIM-CA' });
  });

  it('ok/pending-approved-in-the-sim-then-issued-by-the-background-poll', async () => {
    env.sleeps.length = 0;
    const res = await issue(env, { profile: 'adcs-approval', csr: csrPem('approve.corp.example.test') });
    expect(res.statusCode).toBe(202);
    // The REST caller waits through the quick re-asks before getting 202.
    expect(env.sleeps.filter((ms) => (QUICK_RETRY_DELAYS_MS as readonly number[]).includes(ms))).toEqual([...QUICK_RETRY_DELAYS_MS]);
    expect(res.headers['retry-after']).toBe('60');
    const order = res.json().order;
    expect(order).toMatchObject({ status: 'pending', disposition: 'Taken Under Submission', attempts: 1 });
    // Not due yet: nothing is polled.
    expect((await env.core.adcs.pending.runDue()).polled).toBe(0);
    await sim.approve(Number(order.caRequestId));
    env.clock.advance(2 * MINUTE);
    const run = await env.core.adcs.pending.runDue();
    expect(run.steps.map((s) => [s.order.id, s.status])).toEqual([[order.id, 'issued']]);
    const followed = (await env.api('GET', `/api/v1/orders/${order.id}`)).json();
    expect({ status: followed.status, hasCertificate: followed.certificateId !== null, disposition: followed.disposition })
      .toEqual({ status: 'issued', hasCertificate: true, disposition: 'Issued' });
  });

  it('ok/pending-poll-backs-off-and-survives-a-restart', async () => {
    const res = await issue(env, { profile: 'adcs-approval', csr: csrPem('restart.corp.example.test') });
    const order = res.json().order;
    env.clock.advance(2 * MINUTE);
    const first = await env.core.adcs.pending.runDue();
    const step = first.steps.find((s) => s.order.id === order.id)!;
    expect({ status: step.status, nextPollInMs: step.order.next_poll_at!.getTime() - env.clock.now().getTime() }).toEqual({ status: 'pending', nextPollInMs: 2 * MINUTE });
    // A restarted server (a new core with empty memory) finds the order in the table.
    const restarted = await env.restart();
    await sim.approve(Number(order.caRequestId));
    env.clock.advance(3 * MINUTE);
    const after = await restarted.core.adcs.pending.runDue();
    expect(after.steps.find((s) => s.order.id === order.id)?.status).toBe('issued');
  });

  it('fail/manager-denial-is-denied-with-hresult-0x80094014', async () => {
    const order = (await issue(env, { profile: 'adcs-approval', csr: csrPem('deny.corp.example.test') })).json().order;
    sim.deny(Number(order.caRequestId));
    const fetched = await env.api('POST', `/api/v1/orders/${order.id}/fetch`);
    expect(fetched.statusCode).toBe(200);
    expect({ status: fetched.json().status, hresult: fetched.json().hresult }).toEqual({ status: 'denied', hresult: '0x80094014' });
  });

  it('fail/pending-beyond-the-profile-lifetime-fails-with-a-clear-message', async () => {
    const order = (await issue(env, { profile: 'adcs-approval', csr: csrPem('forgotten.corp.example.test') })).json().order;
    env.clock.advance(2 * DAY + MINUTE);
    const run = await env.core.adcs.pending.runDue();
    const step = run.steps.find((s) => s.order.id === order.id)!;
    expect({ status: step.status, orderStatus: step.order.status, message: step.order.error?.['message'] }).toEqual({
      status: 'expired', orderStatus: 'failed',
      message: `still pending at the CA after 2 days (the profile's pending lifetime): request ${order.caRequestId} was neither approved nor denied by a CA manager; ask them to decide it, then submit again`,
    });
  });

  it('ok/cancel-a-pending-order', async () => {
    const order = (await issue(env, { profile: 'adcs-approval', csr: csrPem('cancel.corp.example.test') })).json().order;
    const res = await env.api('DELETE', `/api/v1/orders/${order.id}`);
    expect({ code: res.statusCode, status: res.json().status, nextPollAt: res.json().nextPollAt, note: res.json().note }).toEqual({
      code: 200, status: 'cancelled', nextPollAt: null,
      note: `cancelled in Certbridge only: ADCS request ${order.caRequestId} stays in the CA's pending queue (web enrollment cannot withdraw a request); ask a CA manager to deny it in the Certification Authority console (Pending Requests → Deny), or it may still be issued there. Certbridge no longer polls it.`,
    });
    // A CA manager approves it anyway: Certbridge no longer asks, the order stays cancelled.
    await sim.approve(Number(order.caRequestId));
    env.clock.advance(2 * MINUTE);
    const run = await env.core.adcs.pending.runDue();
    const after = (await env.api('GET', `/api/v1/orders/${order.id}`)).json();
    expect({ polled: run.steps.some((st) => st.order.id === order.id), status: after.status, certificateId: after.certificateId, atAdcs: sim.getRequest(Number(order.caRequestId))?.disposition })
      .toEqual({ polled: false, status: 'cancelled', certificateId: null, atAdcs: 'issued' });
    const again = await env.api('DELETE', `/api/v1/orders/${order.id}`);
    expect(again.json().error.code).toBe('CONFLICT');
  });

  it('ok/orders-record-common-name-and-adcs-domain', async () => {
    const res = await env.api('GET', `/api/v1/orders?template=ManagerApproval&server=${basicConn}&status=cancelled`);
    expect(res.json().items.map((o: Record<string, unknown>) => [o['subject'], o['commonName'], o['adcsDomain'], o['template'], o['status'], typeof o['caRequestId'], typeof o['createdAt']]))
      .toEqual([['CN=cancel.corp.example.test', 'cancel.corp.example.test', 'CORP', 'ManagerApproval', 'cancelled', 'string', 'string']]);
  });

  it.each([
    ['ok/by-server-name', 'server=sim-basic&commonName=cancel.corp', ['cancel.corp.example.test']],
    ['ok/by-common-name-contains-any-case', 'commonName=CANCEL.CORP.example', ['cancel.corp.example.test']],
    ['ok/by-domain-any-case-and-status', 'domain=corp&status=cancelled', ['cancel.corp.example.test']],
    ['ok/by-template-and-common-name', 'template=WebServer&commonName=ntlm.corp', ['ntlm.corp.example.test']],
    ['ok/like-wildcards-match-themselves', 'commonName=%25', []],
    ['fail/unknown-server-name-matches-nothing', 'server=no-such-server', []],
    ['fail/other-domain-matches-nothing', 'domain=OTHER&commonName=cancel', []],
  ])('orders filter %s', async (_name, query, expected) => {
    const res = await env.api('GET', `/api/v1/orders?${query}`);
    expect({ status: res.statusCode, cns: res.json().items.map((o: { commonName: string }) => o.commonName) }).toEqual({ status: 200, cns: expected });
  });

  it.each([
    ['ok/servers-filtered-by-name', 'BASIC', ['sim-basic']],
    ['fail/servers-filter-matching-nothing', 'nothing', []],
  ])('%s', async (_name, name, expected) => {
    const res = await env.api('GET', `/api/v1/cas/${caId}/servers?name=${name}`);
    expect(res.json().items.map((s: { name: string }) => s.name)).toEqual(expected);
  });

  it('fail/profile-with-a-template-no-server-offers', async () => {
    const res = await env.api('POST', '/api/v1/profiles', { slug: 'adcs-nope', ca: caId, policy: 'permissive', template: 'NoSuchTemplate' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'template NoSuchTemplate is not offered by any server of CA corp-adcs to its connection accounts (offered: ManagerApproval, WebServer)',
    });
  });

  it('ok/templates-listed-from-the-cache-and-refreshed-on-demand', async () => {
    const res = await env.api('GET', `/api/v1/cas/${caId}/templates?refresh=true`);
    expect(res.json().items.map((t: { name: string; servers: string[] }) => `${t.name}@${t.servers.join(',')}`)).toEqual(['ManagerApproval@sim-basic', 'WebServer@sim-basic']);
  });

  it('ok/revocation-is-recorded-and-marked-to-revoke-at-adcs', async () => {
    const cert = (await issue(env, { profile: 'adcs-web', csr: csrPem('revoke.corp.example.test') })).json().certificate;
    const res = await env.api('POST', `/api/v1/certificates/${cert.id}/revoke`, { reason: 'keyCompromise' });
    expect(res.statusCode).toBe(200);
    expect({ status: res.json().status, reason: res.json().revocationReason, pendingAtCa: res.json().revocationPendingAtCa }).toEqual({ status: 'revoked', reason: 'keyCompromise', pendingAtCa: true });
  });

  it('fail/template-withdrawn-then-denied-0x80094012-and-vanished-template-breaks-the-profile', async () => {
    // alice loses Enroll on WebServer: the next request is denied with CERTSRV_E_TEMPLATE_DENIED.
    sim.setTemplates(sim.config.templates.map((t) => (t.cn === 'WebServer' ? { ...t, enroll: ['bob'] } : t)));
    const denied = await issue(env, { profile: 'adcs-web', csr: csrPem('denied.corp.example.test') });
    expect(denied.statusCode).toBe(422);
    expect(denied.json().error).toMatchObject({ code: 'CA_REJECTED', details: { hresult: '0x80094012' } });
    expect(denied.json().error.message).toContain('What to do: the connection account may not enroll in this template');
    // The scheduled refresh sees WebServer gone for alice: the profile is marked broken.
    await env.core.adcs.templates.refreshAll();
    const profile = (await env.api('GET', '/api/v1/profiles/adcs-web')).json();
    expect({ broken: profile.broken, reason: profile.brokenReason?.split(' (')[0] }).toEqual({ broken: true, reason: 'template WebServer is no longer offered by any server of CA corp-adcs' });
    const refused = await issue(env, { profile: 'adcs-web', csr: csrPem('broken.corp.example.test') });
    expect({ code: refused.json().error.code, status: refused.statusCode }).toEqual({ code: 'VALIDATION_FAILED', status: 400 });
  });
});
