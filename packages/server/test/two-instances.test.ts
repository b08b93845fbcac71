import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildCsr, generateKeyPair, parseCrl, parseDn, pemEncode } from '@certbridge/pki';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { freshDatabase } from './helpers.ts';

/**
 * Two `startServer` processes' worth of state on one PostgreSQL database (issue 2 "Storage"):
 * nothing that must be shared may live only in one instance's memory.
 */
const PG = process.env['TEST_DATABASE_URL'];
if (!PG) console.warn('TEST_DATABASE_URL is not set: the two-instances tests need PostgreSQL and are skipped');

const csrPem = (cn: string): string => {
  const pair = generateKeyPair('EC-P256');
  return pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn(`CN=${cn}`), sans: [{ type: 'dns', value: cn }], privateKey: pair.privateKey, publicKey: pair.publicKey }));
};

describe.skipIf(!PG)('two instances on one PostgreSQL database (skipped without TEST_DATABASE_URL)', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let a: RunningServer;
  let b: RunningServer;
  const dirs: string[] = [];
  const token = `cbt_two_${randomBytes(16).toString('hex')}`;

  const call = async (server: RunningServer, method: string, p: string, body?: unknown, headers: Record<string, string> = { authorization: `Bearer ${token}` }) => {
    const res = await fetch(`${server.httpUrl}${p}`, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, headers: res.headers, body: res.headers.get('content-type')?.includes('json') ? await res.json() : new Uint8Array(await res.arrayBuffer()) };
  };
  const count = async (table: 'users' | 'cas' | 'api_tokens', where: { column: 'username' | 'name'; value: string } | null = null) => {
    const filter = where ? sql<boolean>`${sql.ref(where.column)} = ${where.value}` : sql<boolean>`true`;
    return Number((await db.handle.db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).where(filter).executeTakeFirstOrThrow()).n);
  };

  beforeAll(async () => {
    db = await freshDatabase('postgres');
    const masterKey = randomBytes(32).toString('base64');
    const config = async () => {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-two-'));
      dirs.push(dir);
      return loadConfig({
        DATABASE_URL: db.url!, CERTBRIDGE_DATA_DIR: dir, CERTBRIDGE_HTTP_PORT: '0', CERTBRIDGE_HTTPS_PORT: '0', CERTBRIDGE_MASTER_KEY: masterKey,
        CERTBRIDGE_BOOTSTRAP_TOKEN: token, CERTBRIDGE_LOG_LEVEL: 'silent', CERTBRIDGE_PKI_URL: 'http://pki.two.test',
      });
    };
    const [ca, cb] = await Promise.all([config(), config()]);
    // Started at the same time: migrations, pg-boss and bootstrap race on the empty database.
    [a, b] = await Promise.all([startServer(ca), startServer(cb)]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
    await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  it('ok/bootstrap ran exactly once: one first start, one admin, one root CA, one token', async () => {
    expect({
      firstStarts: [a.bootstrap.firstStart, b.bootstrap.firstStart].filter(Boolean).length,
      admins: await count('users', { column: 'username', value: 'admin' }),
      roots: await count('cas', { column: 'name', value: 'Certbridge Root CA' }),
      cas: await count('cas'),
      tokens: await count('api_tokens'),
    }).toEqual({ firstStarts: 1, admins: 1, roots: 1, cas: 2, tokens: 1 });
  });

  it('ok/a session created by logging in on A is accepted by B', async () => {
    await call(a, 'POST', '/api/v1/users', { username: 'roamer', password: 'roaming password 1', role: 'auditor' });
    const login = await call(a, 'POST', '/api/v1/auth/login', { username: 'roamer', password: 'roaming password 1' }, {});
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const me = await call(b, 'GET', '/api/v1/auth/me', undefined, { cookie });
    expect({ login: login.status, me: me.status, username: (me.body as { username: string }).username }).toEqual({ login: 200, me: 200, username: 'roamer' });
  });

  // After this test 127.0.0.1 itself is throttled (per-address counting): keep it after every login.
  it('fail/login failures counted on A block the right password on B', async () => {
    await call(a, 'POST', '/api/v1/users', { username: 'victim', password: 'victim password 12', role: 'auditor' });
    const failures = [];
    for (let i = 0; i < 5; i++) failures.push((await call(a, 'POST', '/api/v1/auth/login', { username: 'victim', password: `wrong ${i}` }, {})).status);
    const onB = await call(b, 'POST', '/api/v1/auth/login', { username: 'victim', password: 'victim password 12' }, {});
    expect({ failures, onB: onB.status, code: (onB.body as { error: { code: string } }).error.code }).toEqual({ failures: [401, 401, 401, 401, 401], onB: 429, code: 'RATE_LIMITED' });
  });

  it('ok/revocations on A and B at the same time: the CRL number grows by one per revocation and lists them all', async () => {
    const issued = [];
    for (let i = 0; i < 8; i++) {
      issued.push((await call(a, 'POST', '/api/v1/applications/default/certificates', { profile: 'default-tls', csr: csrPem(`two-${i}.example.test`) })).body as { certificate: { id: string; serial: string; caId: string } });
    }
    const caId = issued[0]!.certificate.caId;
    const before = parseCrl((await call(b, 'GET', `/crl/${caId}.crl`)).body as Uint8Array).crlNumber;
    const statuses = await Promise.all(issued.map((x, i) => call(i % 2 ? b : a, 'POST', `/api/v1/certificates/${x.certificate.id}/revoke`, { reason: 'superseded' }).then((r) => r.status)));
    const crl = parseCrl((await call(a, 'GET', `/crl/${caId}.crl`)).body as Uint8Array);
    const listed = new Set(crl.revoked.map((r) => r.serialHex));
    expect({ statuses, grew: crl.crlNumber - before, missing: issued.filter((x) => !listed.has(x.certificate.serial)).length })
      .toEqual({ statuses: Array(8).fill(200), grew: 8n, missing: 0 });
  });

  it('ok/CRLs generated concurrently by both instances get unique numbers above the previous one', async () => {
    const ca = (await a.core.repos.cas.find('Certbridge Intermediate CA'))!;
    const before = parseCrl(await a.core.crl.current(ca.id)).crlNumber;
    const ders = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? b : a).core.crl.regenerate(ca.id)));
    const numbers = ders.map((d) => parseCrl(d).crlNumber - before).sort((x, y) => (x < y ? -1 : 1));
    expect(numbers).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n]);
  });
});
