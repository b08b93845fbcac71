/**
 * Automatic client-secret rotation against the emulated Entra and Graph, with a fake clock:
 * enabling rotates at once (waiting out propagation), the schedule runs it again in its time
 * zone, and every failure (removePassword refused, a crash after addPassword, propagation past
 * the bound, a missing permission) keeps a working secret stored and is resumed later.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextRotationAt } from '../src/connections/azure/rotation-schedule.ts';
import { api, cloudOf, selfManagingApp, startAzureWorld, type AzureWorld } from './azure-fixtures.ts';
import { ENGINES, createTestEnv, type TestEnv } from './helpers.ts';

const SCHEDULE = { intervalDays: 30, time: '03:00', timeZone: 'Europe/Berlin' };

describe.each(ENGINES)('Azure client-secret rotation on %s', (engine) => {
  let env: TestEnv;
  let world: AzureWorld;
  // The emulator runs on real time (token lifetimes, propagation); Certbridge's clock starts there and jumps.
  let now = Date.now();
  beforeAll(async () => {
    world = await startAzureWorld();
    env = await createTestEnv(engine, { clock: { now: () => new Date(now) }, azure: { publicUrl: 'https://certbridge.test', oauthApps: world.oauthApps, propagationDelaysMs: [50, 100, 200, 400, 800] } });
  });
  afterAll(async () => {
    await env?.close();
    await world?.close();
  });

  const keyIds = (appId: string) => world.sim.admin.app(appId)!.passwordCredentials.map((p) => p.keyId);
  const graphCalls = (action: string) => world.sim.admin.calls('graph').filter((c) => c.path.endsWith(action)).length;
  async function rotating(name: string, roles?: string[]) {
    const app = selfManagingApp(world, roles);
    const created = await api(env, 'POST', '/api/v1/connections', { name, type: 'azure-client-secrets', method: 'client-secret', tenantId: world.tenantId, clientId: app.appId, clientSecret: app.secret, ...cloudOf(world) });
    expect(created.statusCode).toBe(201);
    const enabled = await api(env, 'PATCH', `/api/v1/connections/${name}`, { rotation: { enabled: true, keyId: app.keyId, ...SCHEDULE } });
    return { app, enabled };
  }
  const makeDue = (name: string) => env.core.azure.repo.find(name).then((r) => env.core.azure.repo.update(undefined, r!.id, { next_rotation_at: new Date(now) }));
  const testOk = async (name: string) => (await api(env, 'POST', `/api/v1/connections/${name}/test`)).json().ok as boolean;

  it('ok/enabling rotates at once: new secret proven after propagation, stored, original removed', async () => {
    world.sim.admin.setPropagationDelay(300);
    world.sim.admin.clearCalls();
    const { app, enabled } = await rotating('rot-main');
    const r = enabled.json().rotation;
    expect({ status: enabled.statusCode, lastRotationAt: r.lastRotationAt, next: r.nextRotationAt, error: enabled.json().lastError, keys: keyIds(app.appId) })
      .toEqual({ status: 200, lastRotationAt: new Date(now).toISOString(), next: nextRotationAt(new Date(now), SCHEDULE).toISOString(), error: null, keys: [r.keyId] });
    expect(r.keyId).not.toBe(app.keyId);
    const refused = world.sim.admin.calls('entra').filter((c) => c.status === 401).length;
    expect({ refusedWhilePropagating: refused > 0, works: await testOk('rot-main') }).toEqual({ refusedWhilePropagating: true, works: true });
    const audit = await env.core.db.selectFrom('audit_log').select('outcome').where('action', '=', 'connection.secret-rotation').execute();
    expect(audit).toEqual([{ outcome: 'success' }]);
  });

  it('ok/the schedule rotates when due in its zone, not before', async () => {
    const row = (await env.core.azure.repo.find('rot-main'))!;
    now = row.next_rotation_at!.getTime() - 60_000;
    expect(await env.core.azure.rotation.runDue()).toEqual({ rotated: 0, failed: 0 });
    now = row.next_rotation_at!.getTime();
    expect(await env.core.azure.rotation.runDue()).toEqual({ rotated: 1, failed: 0 });
    const after = (await env.core.azure.repo.find('rot-main'))!;
    expect({ keys: keyIds(row.client_id), next: after.next_rotation_at!.toISOString(), changed: after.rotation_key_id !== row.rotation_key_id })
      .toEqual({ keys: [after.rotation_key_id], next: nextRotationAt(new Date(now), SCHEDULE).toISOString(), changed: true });
  });

  it('fail/removePassword refused: new secret kept and working, old one retired on the retry', async () => {
    const { app } = await rotating('rot-remove');
    await makeDue('rot-remove');
    world.sim.admin.injectFault({ service: 'graph', status: 503, pathContains: 'removePassword', count: 5 });
    const outcome = await env.core.azure.rotation.rotate((await env.core.azure.repo.find('rot-remove'))!.id);
    world.sim.admin.clearFaults();
    const mid = (await env.core.azure.repo.find('rot-remove'))!;
    expect({ ok: outcome?.ok, keys: keyIds(app.appId).length, retire: mid.rotation_retire_key_id !== null, error: mid.last_error, works: await testOk('rot-remove') })
      .toEqual({ ok: false, keys: 2, retire: true, error: expect.stringContaining('graph.removePassword failed with HTTP 503'), works: true });
    world.sim.admin.clearCalls();
    now += 5 * 60_000;
    expect(await env.core.azure.rotation.runDue()).toEqual({ rotated: 1, failed: 0 });
    const done = (await env.core.azure.repo.find('rot-remove'))!;
    expect({ keys: keyIds(app.appId), added: graphCalls('addPassword'), error: done.last_error }).toEqual({ keys: [done.rotation_key_id], added: 0, error: null });
  });

  it('fail/crash between addPassword and recording it: the orphan is removed on the next run', async () => {
    const { app } = await rotating('rot-crash');
    const row = (await env.core.azure.repo.find('rot-crash'))!;
    const marker = 'Certbridge rotation 2026-01-01T00:00:00.000Z';
    const orphan = world.sim.admin.addPassword(app.appId, { displayName: marker });
    await env.core.azure.repo.update(undefined, row.id, { rotation_pending_marker: marker, next_rotation_at: new Date(now) });
    expect(await env.core.azure.rotation.runDue()).toEqual({ rotated: 1, failed: 0 });
    const after = (await env.core.azure.repo.find('rot-crash'))!;
    expect({ keys: keyIds(app.appId), orphanGone: !keyIds(app.appId).includes(orphan.keyId), marker: after.rotation_pending_marker })
      .toEqual({ keys: [after.rotation_key_id], orphanGone: true, marker: null });
  });

  it('fail/propagation past the bound keeps the old secret; the next run proves the pending one', async () => {
    const { app } = await rotating('rot-slow');
    const before = (await env.core.azure.repo.find('rot-slow'))!;
    world.sim.admin.setPropagationDelay(60_000);
    await makeDue('rot-slow');
    expect(await env.core.azure.rotation.runDue()).toEqual({ rotated: 0, failed: 1 });
    const mid = (await env.core.azure.repo.find('rot-slow'))!;
    expect({ error: mid.last_error, pending: mid.rotation_pending_key_id !== null, secretKept: mid.secret_sealed === before.secret_sealed, keys: keyIds(app.appId).length, works: await testOk('rot-slow') })
      .toEqual({ error: expect.stringContaining('AADSTS7000215'), pending: true, secretKept: true, keys: 2, works: true });
    world.sim.admin.advanceTime(61_000);
    world.sim.admin.setPropagationDelay(0);
    world.sim.admin.clearCalls();
    now = mid.next_rotation_at!.getTime();
    expect(await env.core.azure.rotation.runDue()).toEqual({ rotated: 1, failed: 0 });
    expect({ keys: keyIds(app.appId), added: graphCalls('addPassword') }).toEqual({ keys: [mid.rotation_pending_key_id], added: 0 });
  });

  it('fail/a keyId of another secret is refused before anything is added or removed', async () => {
    const app = selfManagingApp(world);
    const other = world.sim.admin.addPassword(app.appId, { displayName: 'used elsewhere' });
    await api(env, 'POST', '/api/v1/connections', { name: 'rot-wrong-key', type: 'azure-client-secrets', method: 'client-secret', tenantId: world.tenantId, clientId: app.appId, clientSecret: app.secret, ...cloudOf(world) });
    world.sim.admin.clearCalls();
    const res = await api(env, 'PATCH', '/api/v1/connections/rot-wrong-key', { rotation: { enabled: true, keyId: other.keyId, ...SCHEDULE } });
    expect({ error: res.json().lastError, keys: keyIds(app.appId), added: graphCalls('addPassword') })
      .toEqual({ error: `client secret ${other.keyId} is not the secret this connection uses (its hint differs): rotation would remove the wrong secret`, keys: [app.keyId, other.keyId], added: 0 });
  });

  it('fail/missing Graph permission is recorded with backoff and audited', async () => {
    const { enabled } = await rotating('rot-403', []);
    const r = enabled.json();
    expect({ status: enabled.statusCode, error: r.lastError, attempts: r.rotation.attempts, next: r.rotation.nextRotationAt })
      .toEqual({ status: 200, error: expect.stringContaining('Application.ReadWrite.OwnedBy'), attempts: 1, next: new Date(now + 5 * 60_000).toISOString() });
    const audit = await env.core.db.selectFrom('audit_log').select(['outcome', 'resource_id']).where('action', '=', 'connection.secret-rotation').where('resource_id', '=', r.id).execute();
    expect(audit).toEqual([{ outcome: 'failure', resource_id: r.id }]);
  });

  it('ok/disabling then enabling again resumes the schedule instead of rotating twice', async () => {
    const before = (await env.core.azure.repo.find('rot-main'))!;
    await api(env, 'PATCH', '/api/v1/connections/rot-main', { rotation: { enabled: false } });
    const off = (await api(env, 'GET', '/api/v1/connections/rot-main')).json().rotation;
    const on = (await api(env, 'PATCH', '/api/v1/connections/rot-main', { rotation: { enabled: true } })).json().rotation;
    expect({ off: [off.enabled, off.nextRotationAt], on: [on.enabled, on.nextRotationAt, on.keyId] })
      .toEqual({ off: [false, null], on: [true, before.next_rotation_at!.toISOString(), before.rotation_key_id] });
  });

  it('fail/replacing the secret by hand while rotation is on needs its key id', async () => {
    const res = await api(env, 'PATCH', '/api/v1/connections/rot-main', { clientSecret: 'typed in by hand' });
    expect({ status: res.statusCode, field: res.json().error.details.field }).toEqual({ status: 400, field: 'rotation.keyId' });
  });

  it.each([
    ['fail/rotation without the original keyId', { enabled: true, ...SCHEDULE }, 'enabling rotation needs rotation.keyId'],
    ['fail/unknown time zone', { enabled: true, keyId: '11111111-2222-3333-4444-555555555555', intervalDays: 30, time: '03:00', timeZone: 'Mars/Olympus' }, 'the request body is invalid'],
    ['fail/time not HH:MM', { enabled: true, keyId: '11111111-2222-3333-4444-555555555555', intervalDays: 30, time: '3am', timeZone: 'UTC' }, 'the request body is invalid'],
  ])('%s', async (_name, rotation, message) => {
    const app = selfManagingApp(world);
    const name = `rot-bad-${Math.random().toString(36).slice(2, 8)}`;
    await api(env, 'POST', '/api/v1/connections', { name, type: 'azure-client-secrets', method: 'client-secret', tenantId: world.tenantId, clientId: app.appId, clientSecret: app.secret, ...cloudOf(world) });
    const res = await api(env, 'PATCH', `/api/v1/connections/${name}`, { rotation });
    expect({ status: res.statusCode, code: res.json().error.code, message: res.json().error.message }).toEqual({ status: 400, code: 'VALIDATION_FAILED', message });
  });
  it('ok/"rotate now" rotates at once, outside the schedule, audited as the caller; the schedule counts from it', async () => {
    const before = (await env.core.azure.repo.find('rot-main'))!;
    expect(before.next_rotation_at!.getTime()).toBeGreaterThan(now);
    const res = await api(env, 'POST', '/api/v1/connections/rot-main/rotate-secret');
    const body = res.json();
    expect({ status: res.statusCode, ok: body.ok, keys: keyIds(before.client_id), stored: body.connection.rotation.keyId, last: body.connection.rotation.lastRotationAt, next: body.connection.rotation.nextRotationAt })
      .toEqual({ status: 200, ok: true, keys: [body.keyId], stored: body.keyId, last: new Date(now).toISOString(), next: nextRotationAt(new Date(now), SCHEDULE).toISOString() });
    expect(body.keyId).not.toBe(before.rotation_key_id);
    expect(await testOk('rot-main')).toBe(true);
    const audit = await env.core.db.selectFrom('audit_log').select(['outcome', 'actor_type', 'details']).where('action', '=', 'connection.secret-rotation').where('resource_id', '=', before.id)
      .orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    expect({ outcome: audit.outcome, actor: audit.actor_type, keyId: (audit.details as { keyId: string }).keyId }).toEqual({ outcome: 'success', actor: 'token', keyId: body.keyId });
  });

  it('fail/"rotate now" while another run holds the rotation is refused (409) and changes nothing; its claim holds off the schedule too', async () => {
    const row = (await env.core.azure.repo.find('rot-main'))!;
    await env.core.azure.repo.update(undefined, row.id, { rotation_claimed_until: new Date(now + 60_000), next_rotation_at: new Date(now) });
    const res = await api(env, 'POST', '/api/v1/connections/rot-main/rotate-secret');
    expect({ status: res.statusCode, code: res.json().error.code, keys: keyIds(row.client_id) }).toEqual({ status: 409, code: 'CONFLICT', keys: [row.rotation_key_id] });
    expect(await env.core.azure.rotation.runDue()).toEqual({ rotated: 0, failed: 0 });
    // A claim left by a crashed run lapses: the schedule takes the rotation up after it.
    now += 61_000;
    expect(await env.core.azure.rotation.runDue()).toEqual({ rotated: 1, failed: 0 });
    expect((await env.core.azure.repo.find('rot-main'))!.rotation_claimed_until).toBeNull();
  });

  it('fail/"rotate now" that Azure refuses answers ok false with the reason, recorded and retried with backoff', async () => {
    const row = (await env.core.azure.repo.find('rot-403'))!;
    const res = await api(env, 'POST', `/api/v1/connections/${row.id}/rotate-secret`);
    const body = res.json();
    // The first (failed) run's retry is 5 minutes away: "rotate now" does not wait for it.
    expect({ status: res.statusCode, ok: body.ok, error: body.error, attempts: body.connection.rotation.attempts, next: body.connection.rotation.nextRotationAt, lastError: body.connection.lastError })
      .toEqual({ status: 200, ok: false, error: expect.stringContaining('Application.ReadWrite.OwnedBy'), attempts: row.rotation_attempts + 1, next: new Date(now + 10 * 60_000).toISOString(), lastError: body.error });
  });

  it.each([
    ['fail/"rotate now" with rotation off', 'off', 409, 'CONFLICT'],
    ['fail/"rotate now" on a Key Vault connection (its secret is not rotated)', 'key-vault', 400, 'VALIDATION_FAILED'],
    ['fail/"rotate now" on an unknown connection', 'unknown', 404, 'NOT_FOUND'],
  ])('%s', async (_name, kind, status, code) => {
    const app = selfManagingApp(world);
    const name = `rot-now-${kind}-${Math.random().toString(36).slice(2, 8)}`;
    if (kind !== 'unknown') {
      const type = kind === 'key-vault' ? 'azure-key-vault' : 'azure-client-secrets';
      expect((await api(env, 'POST', '/api/v1/connections', { name, type, method: 'client-secret', tenantId: world.tenantId, clientId: app.appId, clientSecret: app.secret, ...cloudOf(world) })).statusCode).toBe(201);
    }
    const res = await api(env, 'POST', `/api/v1/connections/${name}/rotate-secret`);
    expect({ status: res.statusCode, code: res.json().error.code, keys: keyIds(app.appId) }).toEqual({ status, code, keys: [app.keyId] });
  });
});
