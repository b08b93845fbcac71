import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdcsSim } from '@certbridge/adcs-sim';
import { SIM_PASSWORD, csrPem, startSim } from './adcs-fixtures.ts';
import { cloudOf, selfManagingApp, startAzureWorld, type AzureWorld } from './azure-fixtures.ts';
import { ENGINES, freshDatabase } from './helpers.ts';
import { spawnServer, type ServerProcess } from './reliability-process.ts';

/**
 * Secrets scan (issue 10): a representative workload on a real `certbridge serve` process at log
 * level debug, then every log line, every API response body and a dump of the database (each row
 * of each table, and the raw bytes of the data directory's pgdata files on PGlite; `pg_dump` of the
 * database on PostgreSQL) is searched for every secret the workload handed the server or received
 * from it, and for the server-generated private key in base64 and in hex (how a dump renders bytea).
 * Responses whose purpose is to hand a secret out once (new API token, new EAB key, the PKCS#12
 * download) are exempt for that secret only.
 */
const USER_PASSWORD = 'scan user password 7f3a';
const P12_PASSWORD = 'scan pkcs12 passphrase 91c2';
const EST_PASSWORD = 'scan est basic secret 4be0';
const SCEP_CHALLENGE = 'scan scep static challenge 2d77';

interface Seen { what: string; text: string; handsOut?: string }

describe.each(ENGINES)('secrets scan of logs, API responses and the database on %s', (engine) => {
  let server: ServerProcess;
  let pg: Awaited<ReturnType<typeof freshDatabase>> | undefined;
  let sim: AdcsSim;
  let azure: AzureWorld;
  const seen: Seen[] = [];
  const secrets: Record<string, string> = {};
  let keyDer = Buffer.alloc(0);

  const call = async (method: string, p: string, body?: unknown, handsOut?: string) => {
    const res = await server.api(method, p, body);
    seen.push({ what: `${method} ${p} -> ${res.status}`, text: res.text, handsOut });
    if (res.status >= 400) throw new Error(`${method} ${p}: ${res.status} ${res.text}`);
    return res.text ? res.json() : {};
  };

  beforeAll(async () => {
    [sim, azure] = await Promise.all([startSim(), startAzureWorld()]);
    if (engine === 'postgres') {
      pg = await freshDatabase('postgres');
      await pg.handle.close();
    }
    server = await spawnServer({ logLevel: 'debug', ...(pg ? { databaseUrl: pg.url } : {}) });
    secrets['admin API token'] = server.token;
    secrets['ADCS password'] = SIM_PASSWORD;
    Object.assign(secrets, { 'user password': USER_PASSWORD, 'PKCS#12 password': P12_PASSWORD, 'EST password': EST_PASSWORD, 'SCEP challenge': SCEP_CHALLENGE });

    await call('POST', '/api/v1/users', { username: 'scanner', password: USER_PASSWORD, role: 'operator' });
    const login = await fetch(`${server.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'scanner', password: USER_PASSWORD }) });
    seen.push({ what: 'login', text: await login.text() });
    expect(login.status).toBe(200);
    const token = await call('POST', '/api/v1/tokens', { name: 'scan' });
    secrets['new API token'] = String(token['token'] ?? token['secret']);
    seen.at(-1)!.handsOut = secrets['new API token'];

    // Internal issuance with a server-generated key, handed out as PKCS#12.
    const issued = await call('POST', '/api/v1/applications/default/certificates', { profile: 'default-tls', subject: { commonName: 'secret-scan' }, sans: ['dns:secret-scan.test'], keyAlgorithm: 'EC-P256' });
    const certId = (issued['certificate'] as { id: string }).id;
    const p12 = await fetch(`${server.url}/api/v1/certificates/${certId}/download`, { method: 'POST', headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ password: P12_PASSWORD }) });
    expect(p12.status).toBe(200);
    const work = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-scan-'));
    await fs.writeFile(path.join(work, 'k.p12'), Buffer.from(await p12.arrayBuffer()));
    const keyPem = execFileSync('openssl', ['pkcs12', '-in', 'k.p12', '-nocerts', '-nodes', '-passin', `pass:${P12_PASSWORD}`], { cwd: work }).toString();
    keyDer = execFileSync('openssl', ['pkey', '-outform', 'DER'], { input: keyPem });
    secrets['server-generated key (base64 DER)'] = keyDer.toString('base64').slice(0, 48);
    await fs.rm(work, { recursive: true, force: true });

    // ADCS connection with a password, and one issuance through it.
    const conn = await call('POST', '/api/v1/connections', { name: 'sim', type: 'adcs', url: sim.url, domain: 'CORP', username: 'alice', password: SIM_PASSWORD, auth: 'ntlm', caPem: sim.tlsCaPem, timeoutMs: 5000 });
    await call('POST', `/api/v1/connections/${String(conn['id'])}/test`, {});
    const ca = await call('POST', '/api/v1/cas/adcs', { name: 'corp-adcs', servers: [{ connection: conn['id'], priority: 1 }], settings: { quickRetries: 0 } });
    await call('POST', '/api/v1/profiles', { slug: 'adcs-web', ca: ca['id'], policy: 'permissive', template: 'WebServer' });
    await call('PATCH', '/api/v1/applications/default', { profiles: ['default-tls', 'adcs-web'] });
    const viaAdcs = await call('POST', '/api/v1/applications/default/certificates', { profile: 'adcs-web', csr: csrPem('adcs-scan.test', ['adcs-scan.test']) });
    expect((viaAdcs['certificate'] as { id?: string }).id).toBeTruthy();

    // EST basic secret, SCEP static challenge, ACME EAB key.
    await call('PUT', '/api/v1/applications/default/enrollment/default-tls', { est: { enabled: true, auth: 'basic', username: 'device', password: EST_PASSWORD }, scep: { enabled: true, challenge: 'static', staticChallenge: SCEP_CHALLENGE } });
    const eab = await call('POST', '/api/v1/applications/default/acme/eab-keys', {});
    secrets['EAB HMAC key'] = String(eab['hmacKey']);
    seen.at(-1)!.handsOut = secrets['EAB HMAC key'];

    // Azure client-secret connection against the emulator.
    const app = selfManagingApp(azure);
    secrets['Azure client secret'] = app.secret;
    await call('POST', '/api/v1/connections', { name: 'entra', type: 'azure-client-secrets', method: 'client-secret', tenantId: azure.tenantId, clientId: app.appId, clientSecret: app.secret, ...cloudOf(azure) });

    // Read back everything a user can list, then stop so the database files are complete.
    for (const p of ['/api/v1/connections', '/api/v1/connections/sim', '/api/v1/connections/entra', '/api/v1/applications/default/enrollment/default-tls', '/api/v1/tokens', '/api/v1/users', '/api/v1/audit', '/api/v1/orders', '/api/v1/certificates', `/api/v1/certificates/${certId}`, '/api/v1/applications/default/acme/eab-keys']) await call('GET', p);
    await server.stop();
  }, 240_000);

  afterAll(async () => {
    await server?.stop();
    await sim?.stop();
    await azure?.close();
    if (server) await fs.rm(server.dataDir, { recursive: true, force: true });
    await pg?.drop();
  });

  const leaks = (text: string, except?: string): string[] => [
    ...Object.entries(secrets).filter(([, s]) => s !== except && text.includes(s)).map(([name]) => name),
    ...(/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) ? ['a PEM private key'] : []),
  ];

  it('ok/the workload ran: every secret is known and the debug log has one line per request', () => {
    expect(Object.values(secrets).every((s) => s.length >= 8 && s !== 'undefined')).toBe(true);
    expect(server.output()).toContain('request completed');
    // The scanner finds what it looks for: the hand-out answers and the bootstrap token file hold their secret.
    expect(seen.filter((s) => s.handsOut).map((s) => leaks(s.text))).toEqual([['new API token'], ['EAB HMAC key']]);
    expect(leaks(readFileSync(path.join(server.dataDir, 'admin-token'), 'utf8'))).toEqual(['admin API token']);
  });

  it('ok/no secret in the server log (debug level)', () => {
    expect(leaks(server.output())).toEqual([]);
  });

  it('ok/no secret in any API response body, except the one a response hands out', () => {
    expect(seen.length).toBeGreaterThan(15);
    expect(seen.flatMap((s) => leaks(s.text, s.handsOut).map((l) => `${s.what}: ${l}`))).toEqual([]);
  });

  /** Every row of every table: PGlite has no pg_dump, so each row is read as text. */
  async function dumpPglite(): Promise<{ tables: number; dump: string }> {
    const db = new PGlite(path.join(server.dataDir, 'pgdata'));
    const tables = (await db.query<{ s: string; t: string }>("select table_schema as s, table_name as t from information_schema.tables where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')")).rows;
    let dump = '';
    for (const { s, t } of tables) dump += (await db.query<{ r: string }>(`select t::text as r from "${s}"."${t}" t`)).rows.map((r) => r.r).join('\n');
    await db.close();
    return { tables: tables.length, dump };
  }

  /** `pg_dump` of the whole database (schema and data, pg-boss's schema included). */
  function dumpPostgres(): { tables: number; dump: string } {
    const dump = execFileSync('pg_dump', ['--no-owner', '--dbname', pg!.url!], { maxBuffer: 1 << 30 }).toString('utf8');
    return { tables: dump.match(/^CREATE TABLE /gm)?.length ?? 0, dump };
  }

  it(`ok/no secret in a dump of every table${engine === 'postgres' ? ' (pg_dump)' : ''}`, async () => {
    const { tables, dump } = engine === 'postgres' ? dumpPostgres() : await dumpPglite();
    expect(tables).toBeGreaterThan(10);
    expect(dump).toContain('secret-scan.test');
    expect(leaks(dump)).toEqual([]);
    expect(dump.includes(keyDer.toString('hex'))).toBe(false);
  });

  it.runIf(engine === 'pglite')('ok/no secret in the raw bytes of the PGlite data files', () => {
    const files = (dir: string): string[] => readdirSync(dir).flatMap((n) => statSync(path.join(dir, n)).isDirectory() ? files(path.join(dir, n)) : [path.join(dir, n)]);
    const raw = files(path.join(server.dataDir, 'pgdata'));
    expect(raw.length).toBeGreaterThan(100);
    const hits = raw.filter((f) => {
      const bytes = readFileSync(f);
      return bytes.includes(keyDer) || Object.values(secrets).some((s) => bytes.includes(Buffer.from(s)));
    });
    expect(hits).toEqual([]);
  });
});
