/**
 * Issue 4 item 9: an internal intermediate CA whose key Certbridge generates and whose
 * certificate ADCS issues from a subordinate-CA template, at once or after CA-manager approval.
 */
import { X509Certificate } from 'node:crypto';
import type { AdcsSim } from '@certbridge/adcs-sim';
import { parseCertificate } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAdcsCa, addConnection, createAdcsEnv, csrPem, issue, simConfig, startSim, type AdcsEnv } from './adcs-fixtures.ts';
import { ENGINES } from './helpers.ts';

describe.each(ENGINES)('ADCS-signed intermediate on %s', (engine) => {
  let sim: AdcsSim;
  let env: AdcsEnv;
  let adcsCa: string;
  beforeAll(async () => {
    sim = await startSim({
      templates: [
        ...(simConfig().templates ?? []),
        { cn: 'SubCA', displayName: 'Subordinate Certification Authority', enroll: ['alice'], isCa: true },
        { cn: 'SubCAApproval', displayName: 'Subordinate CA (approval)', enroll: ['alice'], isCa: true, issuance: 'manager' },
      ],
    });
    env = await createAdcsEnv(engine);
    adcsCa = await addAdcsCa(env, 'corp-adcs', [await addConnection(env, sim, 'sim')]);
  });
  afterAll(async () => {
    await env?.close();
    await sim?.stop();
  });

  it('ok/subca-issued-at-once-becomes-an-active-internal-ca-that-issues', async () => {
    const res = await env.api('POST', `/api/v1/cas/${adcsCa}/subordinates`, { name: 'Issuing under ADCS', subject: 'CN=Certbridge Issuing CA, O=Corp', keyAlgorithm: 'EC-P256' });
    expect({ status: res.statusCode, type: res.json().type, state: res.json().status }).toEqual({ status: 201, type: 'internal', state: 'active' });
    const ca = new X509Certificate(res.json().certificate);
    expect({ issuer: ca.issuer, isCa: parseCertificate(ca.raw).isCa, signedByAdcs: ca.verify(new X509Certificate(sim.issuingCaPem).publicKey) }).toEqual({ issuer: new X509Certificate(sim.issuingCaPem).subject, isCa: true, signedByAdcs: true });
    const profile = await env.api('POST', '/api/v1/profiles', { slug: 'under-adcs', ca: res.json().id, policy: 'permissive' });
    expect(profile.statusCode).toBe(201);
    await env.api('PATCH', '/api/v1/applications/default', { profiles: ['default-tls', 'under-adcs'] });
    const leaf = await issue(env, { profile: 'under-adcs', csr: csrPem('leaf.corp.example.test') });
    expect(leaf.statusCode).toBe(201);
    expect(new X509Certificate(leaf.json().certificate.certificate).verify(ca.publicKey)).toBe(true);
    expect(leaf.json().certificate.chain.length).toBe(3);
  });

  it('ok/subca-pending-is-disabled-until-approved-then-activated-by-the-poll', async () => {
    const res = await env.api('POST', `/api/v1/cas/${adcsCa}/subordinates`, { name: 'Approved later', subject: 'CN=Approved Later CA', template: 'SubCAApproval' });
    expect({ status: res.statusCode, state: res.json().status, pendingAtAdcs: res.json().pendingAtAdcs }).toEqual({ status: 202, state: 'disabled', pendingAtAdcs: true });
    expect(await env.core.adcs.subordinates.pollPending()).toBe(0);
    const pending = sim.listRequests().filter((r) => r.template === 'SubCAApproval');
    await sim.approve(pending.at(-1)!.id);
    expect(await env.core.adcs.subordinates.pollPending()).toBe(1);
    const ca = (await env.api('GET', '/api/v1/cas/Approved later')).json();
    expect({ state: ca.status, issuer: new X509Certificate(ca.certificate).issuer }).toEqual({ state: 'active', issuer: new X509Certificate(sim.issuingCaPem).subject });
  });

  it('fail/a-template-that-is-not-a-ca-template-is-refused', async () => {
    const res = await env.api('POST', `/api/v1/cas/${adcsCa}/subordinates`, { name: 'Not a CA', subject: 'CN=Not A CA', template: 'WebServer' });
    expect({ status: res.statusCode, code: res.json().error.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
  });
});
