/**
 * What an ADCS issuance leaves in the database now that the certificate, the order's final state
 * and the audit event are written by one statement (issuance/issued-order.ts): every row and
 * column the three separate writes used to set, the renewal link, and all-or-nothing on failure.
 */
import type { AdcsSim } from '@certbridge/adcs-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordIssuedOrder } from '../src/issuance/issued-order.ts';
import { addAdcsCa, addAdcsProfile, addConnection, createAdcsEnv, csrPem, issue, startSim, type AdcsEnv } from './adcs-fixtures.ts';
import { ENGINES } from './helpers.ts';

describe.each(ENGINES)('ADCS issued writes on %s', (engine) => {
  let sim: AdcsSim;
  let env: AdcsEnv;
  let connectionId: string;

  beforeAll(async () => {
    sim = await startSim();
    env = await createAdcsEnv(engine);
    connectionId = await addConnection(env, sim, 'writes-sim');
    const ca = await addAdcsCa(env, 'writes-adcs', [connectionId]);
    await addAdcsProfile(env, 'writes-web', ca, 'WebServer');
    await addAdcsProfile(env, 'writes-approval', ca, 'ManagerApproval');
  });
  afterAll(async () => {
    await env?.close();
    await sim?.stop();
  });

  it('ok/certificate-order-and-audit-row-stored-with-the-adcs-domain', async () => {
    const res = await issue(env, { profile: 'writes-web', csr: csrPem('rows.corp.example.test', ['rows.corp.example.test']) });
    expect(res.statusCode).toBe(201);
    const { order, certificate } = res.json();
    const db = env.core.db;
    const storedOrder = await db.selectFrom('orders').selectAll().where('id', '=', order.id).executeTakeFirstOrThrow();
    const storedCert = await db.selectFrom('certificates').selectAll().where('id', '=', certificate.id).executeTakeFirstOrThrow();
    const audits = await db.selectFrom('audit_log').select(['action', 'outcome']).where('resource_id', '=', certificate.id).execute();
    expect({
      order: { status: storedOrder.status, certificateId: storedOrder.certificate_id, server: storedOrder.ca_server, domain: storedOrder.adcs_domain, attempts: storedOrder.attempts, requestId: storedOrder.ca_request_id },
      answered: { domain: order.adcsDomain, status: order.status },
      certificate: { orderId: storedCert.order_id, subject: storedCert.subject, sans: storedCert.sans, chainLength: storedCert.chain.length, status: storedCert.status },
      audits,
    }).toEqual({
      order: { status: 'issued', certificateId: certificate.id, server: connectionId, domain: 'CORP', attempts: 1, requestId: order.caRequestId },
      answered: { domain: 'CORP', status: 'issued' },
      certificate: { orderId: order.id, subject: 'CN=rows.corp.example.test', sans: [{ type: 'dns', value: 'rows.corp.example.test' }], chainLength: 2, status: 'active' },
      audits: [{ action: 'certificate.issue', outcome: 'success' }],
    });
  });

  it('ok/renewal-through-adcs-records-what-it-renews', async () => {
    const first = (await issue(env, { profile: 'writes-web', csr: csrPem('renew.corp.example.test', ['renew.corp.example.test']) })).json();
    const res = await env.api('POST', `/api/v1/certificates/${first.certificate.id}/renew`, { csr: csrPem('renew.corp.example.test', ['renew.corp.example.test']) });
    expect(res.statusCode).toBe(201);
    const stored = await env.core.db.selectFrom('certificates').select('renewed_from_id').where('id', '=', res.json().certificate.id).executeTakeFirstOrThrow();
    expect({ answered: res.json().certificate.renewedFromId, stored: stored.renewed_from_id }).toEqual({ answered: first.certificate.id, stored: first.certificate.id });
  });

  it('fail/a-write-that-fails-leaves-the-order-pending-and-no-audit-row', async () => {
    const pending = await issue(env, { profile: 'writes-approval', csr: csrPem('atomic.corp.example.test') });
    expect(pending.statusCode).toBe(202);
    const db = env.core.db;
    const order = await db.selectFrom('orders').selectAll().where('id', '=', pending.json().order.id).executeTakeFirstOrThrow();
    const issued = (await issue(env, { profile: 'writes-web', csr: csrPem('taken.corp.example.test') })).json();
    // A certificate id that is already taken: the certificate insert fails inside the statement.
    const taken = await db.selectFrom('certificates').selectAll().where('id', '=', issued.certificate.id).executeTakeFirstOrThrow();
    const marker = `atomic-${order.id}`;
    await expect(recordIssuedOrder(db, env.clock, {
      order, certificate: { ...taken, order_id: order.id },
      patch: { status: 'issued', certificate_id: taken.id, server_key_sealed: null, attempts: order.attempts + 1, next_poll_at: null, disposition: 'Issued', ca_request_id: order.ca_request_id, ca_server: order.ca_server, warning: null },
      audit: { actor: null, action: 'certificate.issue', resourceType: 'certificate', resourceId: marker, outcome: 'success' },
    })).rejects.toThrow();
    const after = await db.selectFrom('orders').select(['status', 'certificate_id']).where('id', '=', order.id).executeTakeFirstOrThrow();
    const audits = await db.selectFrom('audit_log').select('id').where('resource_id', '=', marker).execute();
    expect({ after, audits: audits.length }).toEqual({ after: { status: 'pending', certificate_id: null }, audits: 0 });
  });
});
