/** Key Vault certificates REST at the wire level: challenge, api-version, names, tokens, import formats, versions, delete/recover. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzureSim, type AzureSim, type AppInfo, type TenantInfo } from '../src/index.ts';
import { https, issuedPfx } from './helpers.ts';

let sim: AzureSim;
let tenant: TenantInfo;
let app: AppInfo;
let token: string;
let vault: string;

beforeAll(async () => {
  sim = await startAzureSim();
  tenant = sim.admin.addTenant();
  app = sim.admin.addApp(tenant.id);
  vault = await sim.admin.addVault('kv-rest', { tenantId: tenant.id });
  sim.admin.grantVaultAccess('kv-rest', app.appId);
  token = sim.admin.mintAccessToken({ tenantId: tenant.id, appId: app.appId, resource: 'https://vault.azure.net' });
});
afterAll(() => sim.close());

function kv(path: string, opts: { method?: string; body?: unknown; bearer?: string | null } = {}) {
  const bearer = opts.bearer === undefined ? token : opts.bearer;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) };
  return https(`${vault}${path}`, sim.caPem, { method: opts.method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
}

const errorOf = (r: { json: () => Record<string, unknown> }) => r.json().error as Record<string, unknown>;

describe('Key Vault REST', () => {
  it('fail/no token answers 401 with the bearer challenge naming the tenant and resource', async () => {
    const res = await kv('/certificates/web?api-version=7.5', { bearer: null });
    expect([res.status, res.headers['www-authenticate'], errorOf(res).message]).toEqual([
      401, `Bearer authorization="${sim.authorityHost}/${tenant.id}", resource="https://vault.azure.net"`, 'AKV10000: Request is missing a Bearer or PoP token.',
    ]);
  });

  it.each([
    ['fail/missing api-version', '/certificates/web', "The 'api-version' query parameter is missing."],
    ['fail/unknown api-version', '/certificates/web?api-version=6.0', 'The specified version (6.0) is not recognized. Consider using the latest supported version (2025-07-01).'],
    ['fail/name with an underscore', '/certificates/bad_name?api-version=7.4', 'The request URI contains an invalid name: bad_name'],
    ['fail/name of 128 characters', `/certificates/${'a'.repeat(128)}?api-version=7.4`, `The request URI contains an invalid name: ${'a'.repeat(128)}`],
  ])('%s is 400 BadParameter', async (_name, path, message) => {
    const res = await kv(path);
    expect([res.status, errorOf(res).code, errorOf(res).message]).toEqual([400, 'BadParameter', message]);
  });

  it.each([
    ['fail/expired token', () => sim.admin.mintAccessToken({ tenantId: tenant.id, appId: app.appId, resource: 'https://vault.azure.net', lifetimeSeconds: -900 }), /^AKV10022: Invalid token, the token has expired\.$/],
    ['fail/Graph token', () => sim.admin.mintAccessToken({ tenantId: tenant.id, appId: app.appId, resource: 'https://graph.microsoft.com' }), /^AKV10022: Invalid audience\./],
    ['fail/token of another tenant', () => sim.admin.mintAccessToken({ tenantId: sim.admin.addTenant().id, appId: app.appId, resource: 'https://vault.azure.net' }), /^AKV10032: Invalid issuer\./],
  ])('%s is 401 Unauthorized', async (_name, mint, message) => {
    const res = await kv('/certificates?api-version=7.5', { bearer: mint() });
    expect([res.status, errorOf(res).code, typeof res.headers['www-authenticate']]).toEqual([401, 'Unauthorized', 'string']);
    expect(errorOf(res).message).toMatch(message);
  });

  it('ok/PEM import with its content type; each import is a new 32-hex version; get by version and latest', async () => {
    const a = issuedPfx('pem.example.test', 'x');
    const policy = { issuer: { name: 'Unknown' }, secret_props: { contentType: 'application/x-pem-file' }, lifetime_actions: [{ trigger: { lifetime_percentage: 90 }, action: { action_type: 'EmailContacts' } }] };
    const first = await kv('/certificates/pem-web/import?api-version=7.5', { method: 'POST', body: { value: a.pem, policy, tags: { serial: '01' } } });
    const b1 = first.json();
    expect(first.status).toBe(200);
    expect([b1.cer, b1.tags, (b1.policy as Record<string, unknown>).secret_props]).toEqual([Buffer.from(a.leafDer).toString('base64'), { serial: '01' }, { contentType: 'application/x-pem-file' }]);
    const v1 = String(b1.id).split('/').pop();
    expect(b1.id).toMatch(new RegExp(`^${vault}/certificates/pem-web/[0-9a-f]{32}$`));
    expect([b1.kid, b1.sid]).toEqual([`${vault}/keys/pem-web/${v1}`, `${vault}/secrets/pem-web/${v1}`]);
    const b = issuedPfx('pem.example.test', 'pfx-pw');
    const second = (await kv('/certificates/pem-web/import?api-version=7.5', { method: 'POST', body: { value: Buffer.from(b.pfx).toString('base64'), pwd: 'pfx-pw' } })).json();
    expect((await kv('/certificates/pem-web/?api-version=7.5')).json().id).toBe(second.id);
    expect((await kv(`/certificates/pem-web/${v1}?api-version=7.5`)).json().tags).toEqual({ serial: '01' });
    const versions = (await kv('/certificates/pem-web/versions?api-version=7.5')).json().value as Record<string, unknown>[];
    expect(versions.map((v) => v.id)).toEqual([b1.id, second.id]);
    expect(sim.admin.vault('kv-rest').certificate('pem-web')?.policy.lifetime_actions).toEqual([{ trigger: { lifetime_percentage: 90 }, action: { action_type: 'EmailContacts' } }]);
  });

  it.each([
    ['fail/PEM without a private key', { value: '-----BEGIN CERTIFICATE-----\nMAo=\n-----END CERTIFICATE-----\n', policy: { secret_props: { contentType: 'application/x-pem-file' } } }, /^Private key is not specified/],
    ['fail/value that is not PKCS#12', { value: Buffer.from('not a pfx').toString('base64') }, /^The specified PKCS#12 X\.509 certificate content can not be read/],
    ['fail/lifetime action of another type', { value: 'AA==', policy: { lifetime_actions: [{ trigger: { lifetime_percentage: 80 }, action: { action_type: 'Rotate' } }] } }, /^Invalid lifetime action/],
    ['fail/sixteen tags', { value: 'AA==', tags: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`t${i}`, 'v'])) }, /^The number of tags exceeds the maximum of 15\.$/],
    ['fail/no value', {}, /^Property value is required\.$/],
  ])('%s is 400 BadParameter', async (_name, body, message) => {
    const res = await kv('/certificates/broken/import?api-version=7.5', { method: 'POST', body });
    expect([res.status, errorOf(res).code]).toEqual([400, 'BadParameter']);
    expect(errorOf(res).message).toMatch(message);
  });

  it('ok/delete then recover brings the certificate back; deleted list shows it meanwhile', async () => {
    const { pfx } = issuedPfx('gone.example.test', 'pw');
    await kv('/certificates/gone/import?api-version=7.5', { method: 'POST', body: { value: Buffer.from(pfx).toString('base64'), pwd: 'pw' } });
    const del = (await kv('/certificates/gone?api-version=7.5', { method: 'DELETE' })).json();
    expect((del.scheduledPurgeDate as number) - (del.deletedDate as number)).toBe(90 * 86_400);
    expect((await kv('/certificates/gone?api-version=7.5')).status).toBe(404);
    const listed = (await kv('/deletedcertificates?api-version=7.5')).json().value as Record<string, unknown>[];
    expect(listed.map((d) => d.recoveryId)).toEqual([`${vault}/deletedcertificates/gone`]);
    expect((await kv('/deletedcertificates/gone/recover?api-version=7.5', { method: 'POST' })).status).toBe(200);
    expect((await kv('/certificates/gone?api-version=7.5')).status).toBe(200);
  });

  it('fail/an injected 503 is ServiceUnavailable with Retry-After; fail/missing update permission is 403', async () => {
    sim.admin.injectFault({ service: 'vault', status: 503, retryAfterSeconds: 2 });
    const res = await kv('/certificates?api-version=7.5');
    expect([res.status, res.headers['retry-after'], errorOf(res).code]).toEqual([503, '2', 'ServiceUnavailable']);
    sim.admin.grantVaultAccess('kv-rest', app.appId, ['get', 'list']);
    const denied = await kv('/certificates/gone/?api-version=7.5', { method: 'PATCH', body: { attributes: { enabled: false } } });
    expect([denied.status, errorOf(denied).code, (errorOf(denied).innererror as Record<string, unknown>).code]).toEqual([403, 'Forbidden', 'AccessDenied']);
    sim.admin.grantVaultAccess('kv-rest', app.appId);
  });
});
