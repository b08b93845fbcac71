import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, ENGINES } from './helpers.ts';
import { createMemoryVault, createSyncEnv, type SyncEnv } from './sync-fixtures.ts';

/** `/api/v1/syncs` input handling: every malformed or impossible request gets the API error format. */
describe.each(ENGINES)('Key Vault sync API (%s)', (engine) => {
  let s: SyncEnv;
  const post = (payload: object) => s.env.app.inject({ method: 'POST', url: '/api/v1/syncs', headers: bearer(s.env.adminToken), payload });
  const valid = { connection: 'kv', vaultName: 'kv-one', applications: ['default'] };

  beforeAll(async () => {
    const vault = createMemoryVault();
    s = await createSyncEnv(engine, async () => vault.client);
    const base = { method: 'client-secret' as const, tenantId: '8c5e3b5e-1111-4a3b-9c1d-0e2f3a4b5c6d', clientId: '0b7d2f43-2222-4b6c-8d7e-1f2a3b4c5d6e', clientSecret: 'not used' };
    await s.core.azure.connections.create(s.admin, { ...base, name: 'kv', type: 'azure-key-vault' });
    await s.core.azure.connections.create(s.admin, { ...base, name: 'secrets', type: 'azure-client-secrets' });
  }, 60_000);
  afterAll(async () => s?.env.close());

  it.each([
    ['fail/unknown application', { name: 'a1', ...valid, applications: ['nope'] }, 400, 'VALIDATION_FAILED', { field: 'applications', value: 'nope' }],
    ['fail/unknown profile', { name: 'a2', ...valid, profiles: ['nope'] }, 400, 'VALIDATION_FAILED', { field: 'profiles', value: 'nope' }],
    ['fail/no application or profile', { name: 'a3', connection: 'kv', vaultName: 'kv-one' }, 400, 'VALIDATION_FAILED', { field: 'applications' }],
    ['fail/no vault, and none on the connection', { name: 'a6', connection: 'kv', applications: ['default'] }, 400, 'VALIDATION_FAILED', { field: 'vault' }],
    ['fail/connection of another type', { name: 'a4', ...valid, connection: 'secrets' }, 400, 'VALIDATION_FAILED', { field: 'connection', type: 'azure-client-secrets' }],
    ['fail/unknown connection', { name: 'a5', ...valid, connection: 'missing' }, 404, 'NOT_FOUND', { resource: 'Azure connection', id: 'missing' }],
  ])('%s', async (_name, payload, status, code, details) => {
    const res = await post(payload);
    expect(res.statusCode).toBe(status);
    expect(res.json().error).toMatchObject({ code, details });
  });

  it.each([
    ['fail/vault named twice', { name: 'b1', ...valid, vaultUrl: 'https://kv-one.vault.azure.net' }, 'vaultUrl'],
    ['fail/vault URL over http', { name: 'b2', connection: 'kv', applications: ['default'], vaultUrl: 'http://kv-one.vault.azure.net' }, 'vaultUrl'],
    ['fail/vault name breaking Key Vault rules', { name: 'b3', ...valid, vaultName: '1-bad_name' }, 'vaultName'],
    ['fail/unknown onRevocation', { name: 'b4', ...valid, onRevocation: 'purge' }, 'onRevocation'],
    ['fail/unknown field', { name: 'b5', ...valid, pfxPassword: 'x' }, ''],
    ['fail/name with spaces', { ...valid, name: 'my sync' }, 'name'],
  ])('%s', async (_name, payload, path) => {
    const res = await post(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_FAILED');
    expect(res.json().error.details.issues.map((i: { path: string }) => i.path)).toContain(path);
  });

  it('ok/create, read by name, conflict on the same name, disable, run refused while disabled, delete', async () => {
    const created = await post({ name: 'lifecycle', ...valid, vaultName: 'kv-life' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: 'lifecycle', vaultUrl: 'https://kv-life.vault.azure.net', onRevocation: 'disable', enabled: true });
    const id = created.json().id as string;
    expect((await s.env.app.inject({ method: 'GET', url: '/api/v1/syncs/lifecycle', headers: bearer(s.env.adminToken) })).json().id).toBe(id);
    expect((await post({ name: 'lifecycle', ...valid })).json().error.code).toBe('CONFLICT');
    const patched = await s.env.app.inject({ method: 'PATCH', url: `/api/v1/syncs/${id}`, headers: bearer(s.env.adminToken), payload: { enabled: false } });
    expect(patched.json().enabled).toBe(false);
    const run = await s.env.app.inject({ method: 'POST', url: `/api/v1/syncs/${id}/run`, headers: bearer(s.env.adminToken) });
    expect([run.statusCode, run.json().error.code]).toEqual([409, 'CONFLICT']);
    expect((await s.env.app.inject({ method: 'DELETE', url: `/api/v1/syncs/${id}`, headers: bearer(s.env.adminToken) })).statusCode).toBe(204);
    const gone = await s.env.app.inject({ method: 'GET', url: `/api/v1/syncs/${id}/certificates`, headers: bearer(s.env.adminToken) });
    expect([gone.statusCode, gone.json().error.code]).toEqual([404, 'NOT_FOUND']);
    const audit = await s.env.handle.db.selectFrom('audit_log').select('action').where('resource_id', '=', id).orderBy('seq').execute();
    expect(audit.map((a) => a.action)).toEqual(['sync.create', 'sync.update', 'sync.delete']);
  });

  it('ok/the OpenAPI document lists the sync routes', async () => {
    const doc = (await s.env.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    expect(Object.keys(doc.paths).filter((p: string) => p.startsWith('/api/v1/syncs')).sort()).toEqual(['/api/v1/syncs', '/api/v1/syncs/{id}', '/api/v1/syncs/{id}/certificates', '/api/v1/syncs/{id}/run']);
  });
});
