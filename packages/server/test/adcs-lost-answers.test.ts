/**
 * ADCS answers lost after the request was sent (the emulator handles the request, then cuts the
 * connection). A submission whose answer was lost fails over, and the order names the server that
 * may hold it too; a request the primary issued but whose certificate could not be fetched stays
 * with that server and is fetched later, instead of being issued a second time elsewhere.
 */
import type { AdcsSim } from '@certbridge/adcs-sim';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addAdcsCa, addAdcsProfile, addConnection, createAdcsEnv, csrPem, issue, startSim, type AdcsEnv } from './adcs-fixtures.ts';
import { ENGINES } from './helpers.ts';

describe.each(ENGINES)('lost ADCS answers on %s', (engine) => {
  let primary: AdcsSim;
  let secondary: AdcsSim;
  let env: AdcsEnv;
  let primaryConn: string;
  let secondaryConn: string;

  beforeAll(async () => {
    [primary, secondary] = await Promise.all([startSim(), startSim()]);
    env = await createAdcsEnv(engine);
    primaryConn = await addConnection(env, primary, 'ca1');
    secondaryConn = await addConnection(env, secondary, 'ca2');
    const ca = await addAdcsCa(env, 'corp-lost', [primaryConn, secondaryConn]);
    await addAdcsProfile(env, 'lost-web', ca, 'WebServer');
    // Warm both pooled connections: the cut then hits a reused connection, as in production.
    expect((await issue(env, { profile: 'lost-web', csr: csrPem('warm.corp.example.test') })).statusCode).toBe(201);
  });
  afterEach(async () => {
    await Promise.all([primary.clearFaults(), secondary.clearFaults()]);
    // The breaker counts the cuts as failures: start each test with both servers closed.
    await env.core.db.deleteFrom('adcs_server_state').execute();
    env.core.adcs.runtime.invalidate();
  });
  afterAll(async () => {
    await env?.close();
    await Promise.all([primary?.stop(), secondary?.stop()]);
  });

  const requestsFor = (sim: AdcsSim, cn: string) => sim.listRequests().filter((r) => r.request && Buffer.from(r.request, 'base64').includes(Buffer.from(cn)));

  it('ok/submit-answer-lost-at-the-primary-the-secondary-issues-and-the-order-says-where-to-look', async () => {
    await primary.setFaults({ loseAnswer: true, page: 'certfnsh.asp', count: 1 });
    const res = await issue(env, { profile: 'lost-web', csr: csrPem('cut.corp.example.test') });
    expect({ status: res.statusCode, server: res.json().order?.caServer }).toEqual({ status: 201, server: secondaryConn });
    // The primary took the request once and issued it: a certificate Certbridge never received.
    expect(requestsFor(primary, 'cut.corp.example.test').map((r) => r.disposition)).toEqual(['issued']);
    const warning: string = res.json().order.warning;
    expect(warning).toMatch(/^ca1 got the request at \d{4}-\d\d-\d\dT[\d:.]+Z and the connection was cut before its answer/);
    expect(warning).toContain("look in that CA's Issued and Pending Requests for a request by CORP\\alice at that moment, and revoke or deny it there.");
    // The warning is kept on the order, for the orders list and the UI.
    expect((await env.api('GET', `/api/v1/orders/${res.json().order.id}`)).json().warning).toBe(warning);
  });

  it('ok/issued-at-the-primary-but-not-fetched-stays-there-and-is-fetched-later', async () => {
    await primary.setFaults({ loseAnswer: true, page: 'certnew.cer' });
    const res = await issue(env, { profile: 'lost-web', csr: csrPem('unfetched.corp.example.test') });
    const taken = requestsFor(primary, 'unfetched.corp.example.test');
    expect(taken.map((r) => r.disposition)).toEqual(['issued']);
    expect({ status: res.statusCode, order: { status: res.json().order?.status, caServer: res.json().order?.caServer, caRequestId: res.json().order?.caRequestId } })
      .toEqual({ status: 202, order: { status: 'pending', caServer: primaryConn, caRequestId: String(taken[0]!.id) } });
    expect(res.json().order.disposition).toMatch(/^Issued, but the certificate could not be fetched yet/);
    // Never submitted anywhere else.
    expect(requestsFor(secondary, 'unfetched.corp.example.test')).toEqual([]);

    await primary.clearFaults();
    const fetched = await env.api('POST', `/api/v1/orders/${res.json().order.id}/fetch`);
    expect(fetched.statusCode).toBe(200);
    const order = (await env.api('GET', `/api/v1/orders/${res.json().order.id}`)).json();
    expect(order.status).toBe('issued');
    const cert = (await env.api('GET', `/api/v1/certificates/${order.certificateId}`)).json();
    expect(String(cert.serial).toLowerCase().replace(/^0+/, '')).toBe(taken[0]!.serialNumber!.toLowerCase().replace(/^0+/, ''));
    expect(requestsFor(primary, 'unfetched.corp.example.test')).toHaveLength(1);
  });

  it('fail/answer-lost-and-every-server-down-says-to-look-before-submitting-again', async () => {
    await primary.setFaults({ loseAnswer: true, page: 'certfnsh.asp', count: 1 });
    await secondary.setFaults({ httpStatus: 503, count: 10 });
    const res = await issue(env, { profile: 'lost-web', csr: csrPem('nowhere.corp.example.test') });
    const error = res.json().error;
    expect({ status: res.statusCode, code: error.code, lostAt: error.details.answerLostAt }).toEqual({ status: 503, code: 'CA_UNAVAILABLE', lostAt: ['ca1'] });
    expect(error.message).toMatch(/Before submitting again: ca1 got the request at .* and the connection was cut before its answer/);
    expect(requestsFor(primary, 'nowhere.corp.example.test').map((r) => r.disposition)).toEqual(['issued']);
  });
});
