import { execFile } from 'node:child_process';
import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { buildCsr, generateKeyPair, keyMatchesCertificate, parseDn, pemEncode } from '@certbridge/pki';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../src/audit/audit-log.ts';
import { bootstrap, serverTlsCertificate } from '../src/bootstrap.ts';
import { caKeyContext } from '../src/cas/ca-keys.ts';
import { createSealer } from '../src/crypto/sealer.ts';
import { serverKeyContext } from '../src/issuance/issuance-service.ts';
import { ENGINES, PKI_URL, bearer, createTestEnv, type TestEnv } from './helpers.ts';

const run = promisify(execFile);
const PUBLIC_URL = 'https://certbridge.test';
const MINUTE = 60_000;

const csrPem = (cn: string): string => {
  const pair = generateKeyPair('EC-P256');
  return pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn(`CN=${cn}`), sans: [{ type: 'dns', value: cn }], privateKey: pair.privateKey, publicKey: pair.publicKey }));
};

/** The forms a private key could leak in: PKCS#8 DER as hex, the PEM body, its first PEM line, the raw private scalar. */
function keyNeedles(pkcs8Der: Buffer): string[] {
  const b64 = pkcs8Der.toString('base64');
  const jwk = createPrivateKey({ key: pkcs8Der, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
  return [pkcs8Der.toString('hex'), b64, b64.slice(0, 64), Buffer.from(String(jwk.d), 'base64url').toString('hex')];
}

/**
 * Every row of every table as text. PostgreSQL: `pg_dump` of the test database, as an operator
 * would take a backup. PGlite: every column of every table, bytea both as hex and as raw text.
 */
async function dumpDatabase(env: TestEnv): Promise<string> {
  if (env.engine === 'postgres') {
    const { rows } = await sql<{ name: string }>`select current_database() as name`.execute(env.core.db);
    const url = new URL(process.env['TEST_DATABASE_URL']!);
    url.pathname = `/${rows[0]!.name}`;
    const { stdout } = await run('pg_dump', ['--no-owner', url.toString()], { maxBuffer: 256 * 1024 * 1024 });
    return stdout;
  }
  const tables = await sql<{ s: string; t: string }>`select table_schema as s, table_name as t from information_schema.tables
    where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`.execute(env.core.db);
  const out: string[] = [];
  for (const { s, t } of tables.rows) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(`${s}.${t}`)}`.execute(env.core.db);
    for (const row of rows.rows) {
      for (const value of Object.values(row)) {
        if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('hex'), Buffer.from(value).toString('latin1'));
        else if (value instanceof Date) out.push(value.toISOString());
        else out.push(typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value));
      }
    }
  }
  return out.join('\n');
}

const count = async (env: TestEnv, table: 'cas' | 'users' | 'policies' | 'profiles' | 'applications' | 'api_tokens' | 'audit_log'): Promise<number> =>
  Number((await env.core.db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);


/**
 * Verifies once every audit row is linked. Rows settle when no older transaction is still running
 * anywhere in the PostgreSQL cluster, so with other test files running in parallel a row can stay
 * unlinked for a moment; wait for that (bounded) instead of racing it.
 */
async function settledVerification(db: Parameters<typeof verifyAuditChain>[0]) {
  for (let attempt = 0; ; attempt += 1) {
    const result = await verifyAuditChain(db);
    if (result.pending === 0 || !result.ok || attempt >= 200) return result;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.each(ENGINES)('secrets at rest on %s', (engine) => {
  let env: TestEnv;
  let dump: string;
  const secrets: Record<string, string[]> = {};
  const opened: Record<string, boolean[]> = {};
  let certificateDerHex = '';

  beforeAll(async () => {
    env = await createTestEnv(engine);
    const sealer = createSealer(env.masterKey);
    const tls = await serverTlsCertificate(env.core, PUBLIC_URL);
    const issued = await env.app.inject({ method: 'POST', url: '/api/v1/applications/default/certificates', headers: bearer(env.adminToken), payload: { profile: 'default-tls', subject: { commonName: 'keygen.example.test' }, sans: ['dns:keygen.example.test'] } });
    const certId: string = issued.json().certificate.id;
    const tokens = await Promise.all(['ci', 'backup'].map(async (name) => (await env.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: bearer(env.adminToken), payload: { name } })).json().token as string));
    const userPassword = 'operator password 4711';
    await env.app.inject({ method: 'POST', url: '/api/v1/users', headers: bearer(env.adminToken), payload: { username: 'op', password: userPassword, role: 'operator' } });
    const login = await env.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'op', password: userPassword } });
    const session = login.cookies.find((c) => c.name === 'certbridge_session')!.value;

    const cas = await env.core.db.selectFrom('cas').selectAll().execute();
    const caKeys = cas.map((ca) => sealer.open(ca.private_key_sealed!, caKeyContext(ca.id)));
    opened['CA keys'] = cas.map((ca, i) => keyMatchesCertificate(createPrivateKey({ key: caKeys[i]!, format: 'der', type: 'pkcs8' }), ca.certificate_der!));
    const cert = await env.core.db.selectFrom('certificates').selectAll().where('id', '=', certId).executeTakeFirstOrThrow();
    const serverKey = sealer.open(cert.private_key_sealed!, serverKeyContext(cert.order_id!));
    opened['server-generated key'] = [keyMatchesCertificate(createPrivateKey({ key: serverKey, format: 'der', type: 'pkcs8' }), cert.der)];
    const setting = await env.core.db.selectFrom('settings').selectAll().where('key', '=', 'server-tls').executeTakeFirstOrThrow();
    const tlsKey: KeyObject = createPrivateKey(tls.key);
    opened['server TLS key'] = [sealer.open(setting.sealed!, 'server-tls').equals(tlsKey.export({ format: 'der', type: 'pkcs8' }))];
    certificateDerHex = Buffer.from(cert.der).toString('hex');

    secrets['CA private key'] = caKeys.flatMap(keyNeedles);
    secrets['server-generated key'] = keyNeedles(serverKey);
    secrets['server TLS key'] = keyNeedles(tlsKey.export({ format: 'der', type: 'pkcs8' }));
    secrets['API token secret'] = [env.adminToken, ...tokens];
    secrets['session secret'] = [session];
    secrets['password'] = [env.boot.adminPassword!, userPassword];
    dump = await dumpDatabase(env);
  });
  afterAll(async () => env?.close());

  it('ok/control: the dump holds the issued certificate, so a leak would be seen', () => {
    expect(dump.includes(certificateDerHex)).toBe(true);
  });

  it.each([
    ['CA private key', 8],
    ['server-generated key', 4],
    ['server TLS key', 4],
    ['API token secret', 3],
    ['session secret', 1],
    ['password', 2],
  ])('ok/no %s appears in clear in the dump', (kind, checked) => {
    const values = secrets[kind]!;
    expect({ checked: values.length, leaked: values.filter((v) => dump.includes(v)) }).toEqual({ checked, leaked: [] });
  });

  it.each([
    ['CA keys', [true, true]],
    ['server-generated key', [true]],
    ['server TLS key', [true]],
  ])('ok/sealed %s open with the master key and match their certificates', (kind, expected) => {
    expect(opened[kind]).toEqual(expected);
  });

  it('fail/a sealed CA key does not open with another master key', async () => {
    const ca = await env.core.repos.cas.find('Certbridge Root CA');
    const other = createSealer(Buffer.alloc(32, 7));
    expect(() => other.open(ca!.private_key_sealed!, caKeyContext(ca!.id))).toThrow(/not the current master key/);
  });
});

describe.each(ENGINES)('audit chain on %s', (engine) => {
  let env: TestEnv;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    env = await createTestEnv(engine);
  });
  afterAll(async () => env?.close());

  const call = async (method: 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: object, headers: Record<string, string> = bearer(env.adminToken)) => {
    const res = await env.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res;
  };

  // Each change, in order, and the one audit action it must append.
  const CHANGES: [string, string, () => Promise<unknown>][] = [
    ['create a CA', 'ca.create', async () => (ids['ca'] = (await call('POST', '/api/v1/cas', { name: 'Audit Root', kind: 'root', subject: 'CN=Audit Root', keyAlgorithm: 'EC-P256' })).json().id)],
    ['disable a CA', 'ca.update', () => call('PATCH', `/api/v1/cas/${ids['ca']}`, { status: 'disabled' })],
    ['create a policy', 'policy.create', () => call('POST', '/api/v1/policies', { name: 'audited', rules: {} })],
    ['change a policy', 'policy.update', () => call('PATCH', '/api/v1/policies/audited', { description: 'changed' })],
    ['create a profile', 'profile.create', () => call('POST', '/api/v1/profiles', { slug: 'audited-tls', ca: 'Certbridge Intermediate CA', policy: 'audited' })],
    ['change a profile', 'profile.update', () => call('PATCH', '/api/v1/profiles/audited-tls', { name: 'Audited TLS' })],
    ['create an application', 'application.create', () => call('POST', '/api/v1/applications', { name: 'audited-app', profiles: ['audited-tls'] })],
    ['change an application', 'application.update', () => call('PATCH', '/api/v1/applications/audited-app', { description: 'changed' })],
    ['create a user', 'user.create', async () => (ids['user'] = (await call('POST', '/api/v1/users', { username: 'auditee', password: 'auditee password 1', role: 'requester' })).json().id)],
    ['change a user', 'user.update', () => call('PATCH', `/api/v1/users/${ids['user']}`, { role: 'operator' })],
    ['add a member', 'application.member.set', () => call('PUT', '/api/v1/applications/audited-app/members', { user: ids['user']!, role: 'viewer' })],
    ['remove a member', 'application.member.remove', () => call('DELETE', `/api/v1/applications/audited-app/members/${ids['user']}`)],
    ['create a token', 'token.create', async () => (ids['token'] = (await call('POST', '/api/v1/tokens', { name: 'audited' })).json().id)],
    ['revoke a token', 'token.revoke', () => call('DELETE', `/api/v1/tokens/${ids['token']}`)],
    ['issue a certificate (server-generated key)', 'certificate.issue', async () => (ids['cert'] = (await call('POST', '/api/v1/applications/default/certificates', { profile: 'default-tls', subject: 'CN=audited.example.test' })).json().certificate.id)],
    ['export its key as PKCS#12', 'certificate.export-key', () => call('POST', `/api/v1/certificates/${ids['cert']}/download`, { password: 'p12 password' })],
    ['revoke a certificate', 'certificate.revoke', () => call('POST', `/api/v1/certificates/${ids['cert']}/revoke`, { reason: 'keyCompromise' })],
    ['log in', 'auth.login', async () => (ids['cookie'] = (await call('POST', '/api/v1/auth/login', { username: 'auditee', password: 'auditee password 1' }, {})).cookies[0]!.value)],
    ['log out', 'auth.logout', async () => {
      const me = await env.app.inject({ method: 'GET', url: '/api/v1/auth/me', cookies: { certbridge_session: ids['cookie']! } });
      const csrf = (await env.core.db.selectFrom('sessions').select('csrf_token').where('user_id', '=', me.json().id).executeTakeFirstOrThrow()).csrf_token;
      return env.app.inject({ method: 'POST', url: '/api/v1/auth/logout', cookies: { certbridge_session: ids['cookie']! }, headers: { 'x-csrf-token': csrf } });
    }],
  ];

  it.each(CHANGES)('ok/%s appends exactly one audit row: %s', async (_name, action, change) => {
    const before = await env.core.db.selectFrom('audit_log').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    await change();
    const rows = await env.core.db.selectFrom('audit_log').select(['action', 'outcome']).where(sql<boolean>`seq > ${before.seq}::bigint`).orderBy('seq').execute();
    expect(rows).toEqual([{ action, outcome: 'success' }]);
  });

  it('ok/the chain verifies after all those changes', async () => {
    await call('POST', '/api/v1/applications/default/certificates', { profile: 'default-tls', csr: csrPem('chain.example.test') });
    const result = await settledVerification(env.core.db);
    expect({ ok: result.ok, rows: result.rows }).toEqual({ ok: true, rows: await count(env, 'audit_log') });
  });

  it('fail/an UPDATE of one row\'s details is detected as modified at that row', async () => {
    expect((await settledVerification(env.core.db)).pending).toBe(0);
    const target = await env.core.db.selectFrom('audit_log').select(['seq', 'details']).where('action', '=', 'policy.create').orderBy('seq').limit(1).executeTakeFirstOrThrow();
    await env.core.db.updateTable('audit_log').set({ details: JSON.stringify({ name: 'forged' }) }).where('seq', '=', target.seq).execute();
    const result = await verifyAuditChain(env.core.db);
    await env.core.db.updateTable('audit_log').set({ details: JSON.stringify(target.details) }).where('seq', '=', target.seq).execute();
    expect({ ok: result.ok, kind: result.problem?.kind, seq: result.problem?.seq }).toEqual({ ok: false, kind: 'modified', seq: String(target.seq) });
  });

  it('ok/restoring the original details makes the chain verify again', async () => {
    expect((await verifyAuditChain(env.core.db)).ok).toBe(true);
  });

  it('fail/a DELETE of a middle row is detected as a broken link at the next row', async () => {
    expect((await settledVerification(env.core.db)).pending).toBe(0);
    const rows = await env.core.db.selectFrom('audit_log').select('seq').orderBy('chain_pos').execute();
    const middle = rows[Math.floor(rows.length / 2)]!.seq;
    const next = rows[Math.floor(rows.length / 2) + 1]!.seq;
    await env.core.db.deleteFrom('audit_log').where('seq', '=', middle).execute();
    const result = await verifyAuditChain(env.core.db);
    expect({ ok: result.ok, kind: result.problem?.kind, seq: result.problem?.seq }).toEqual({ ok: false, kind: 'broken-link', seq: String(next) });
  });
});

describe.each(ENGINES)('bootstrap and crash recovery on %s', (engine) => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv(engine);
  });
  afterAll(async () => env?.close());

  const TABLES = ['cas', 'users', 'policies', 'profiles', 'applications', 'api_tokens'] as const;

  it('ok/bootstrap on the same database a second time creates nothing and says firstStart false', async () => {
    const counts = async () => Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await count(env, t)])));
    const before = await counts();
    const again = await bootstrap(env.core, { engine, dataDir: env.dataDir, pkiUrl: PKI_URL });
    expect({ firstStart: again.firstStart, counts: await counts() }).toEqual({ firstStart: false, counts: before });
  });

  it('ok/the first bootstrap created one of each (2 CAs: root and intermediate)', async () => {
    const counts = Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await count(env, t)])));
    expect(counts).toEqual({ cas: 2, users: 1, policies: 1, profiles: 1, applications: 1, api_tokens: 1 });
  });

  // A crash between "order recorded" and "CA asked" leaves a pending order without a CA request id.
  it.each([
    ['fail/a pending order without a CA request id, 11 minutes old, is marked failed', 11 * MINUTE, null, 'failed'],
    ['ok/a pending order without a CA request id, 1 minute old, is left pending', 1 * MINUTE, null, 'pending'],
    ['ok/a pending order that reached the CA, 11 minutes old, is left pending', 11 * MINUTE, '4711', 'pending'],
  ] as const)('%s', async (_name, age, caRequestId, expected) => {
    const profile = (await env.core.repos.catalog.findProfile('default-tls'))!;
    const application = (await env.core.repos.catalog.findApplication('default'))!;
    const id = randomUUID();
    await env.core.repos.orders.insert({
      id, application_id: application.id, profile_id: profile.id, ca_id: profile.ca_id, requester_id: null, protocol: 'api', status: 'pending',
      csr_der: null, subject: 'CN=stranded.example.test', sans: '[]', key_algorithm: 'EC-P256', server_key_sealed: 'v1.x.y.z.w', ca_request_id: caRequestId,
      ca_server: null, template: null, disposition: null, hresult: null, error: null, next_poll_at: null, certificate_id: null,
      created_at: new Date(Date.now() - age),
    });
    await env.core.issuance.failStrandedOrders(10 * MINUTE);
    const order = (await env.core.repos.orders.find(id))!;
    const audit = await env.core.db.selectFrom('audit_log').select(['action', 'outcome']).where('resource_id', '=', id).execute();
    const visible = expected === 'failed'
      ? { status: 'failed', error: { message: 'the server stopped before the CA answered; submit again' }, serverKey: null, audit: [{ action: 'order.failed', outcome: 'failure' }] }
      : { status: 'pending', error: null, serverKey: 'v1.x.y.z.w', audit: [] };
    expect({ status: order.status, error: order.error, serverKey: order.server_key_sealed, audit }).toEqual(visible);
  });
});
