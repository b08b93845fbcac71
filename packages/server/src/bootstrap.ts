import fs from 'node:fs/promises';
import path from 'node:path';
import { exportPrivateKeyPkcs8Der, generateKeyPair, importPrivateKey, parseDn, pemEncode, randomSerial, signCertificate } from '@certbridge/pki';
import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { hashPassword, randomPassword } from './auth/passwords.ts';
import { SYSTEM_PRINCIPAL, type Principal } from './auth/principal.ts';
import { pkiUrls } from './cas/ca-keys.ts';
import type { Core } from './core.ts';

export const ROOT_CA_NAME = 'Certbridge Root CA';
export const INTERMEDIATE_CA_NAME = 'Certbridge Intermediate CA';
const BOOTSTRAP_LOCK = 0x62737470;
const TLS_SETTING = 'server-tls';
const DAY_MS = 86_400_000;

export interface BootstrapResult {
  firstStart: boolean;
  adminPassword?: string;
  adminToken?: string;
  tokenFile: string;
  rootCaFile: string;
}

/** The rules every new install starts from: anything goes up to 397 days (CA/B maximum). */
const PERMISSIVE_RULES = { maxValidityDays: 397 };

/**
 * SPEC "First start": CAs, admin, token, the `default` application and `default-tls` profile.
 * Each step first looks for what it would create, so a restart (or a start after a crash half
 * way through) completes what is missing and changes nothing else. On PostgreSQL a session
 * advisory lock keeps two instances starting at once from racing.
 */
export async function bootstrap(core: Core, opts: { engine: 'pglite' | 'postgres'; dataDir: string; bootstrapToken?: string | undefined; pkiUrl: string }): Promise<BootstrapResult> {
  await fs.mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  if (opts.engine === 'pglite') return ensureEverything(core, opts);
  // PGlite has one session (and one process), so only PostgreSQL needs the cross-process lock.
  return core.db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${BOOTSTRAP_LOCK})`.execute(conn);
    try {
      return await ensureEverything(core, opts);
    } finally {
      await sql`select pg_advisory_unlock(${BOOTSTRAP_LOCK})`.execute(conn);
    }
  });
}

async function ensureEverything(core: Core, opts: { dataDir: string; bootstrapToken?: string | undefined }): Promise<BootstrapResult> {
  const tokenFile = path.join(opts.dataDir, 'admin-token');
  const rootCaFile = path.join(opts.dataDir, 'ca.pem');
  let adminPassword: string | undefined;
  let adminUser = await core.repos.users.findByUsername('admin');
  const firstStart = !adminUser;
  if (!adminUser) {
    adminPassword = randomPassword();
    const passwordHash = await hashPassword(adminPassword);
    adminUser = await core.db.transaction().execute((trx) => core.repos.users.insert(trx, { id: randomUUID(), username: 'admin', password_hash: passwordHash, role: 'admin' }));
    await fs.writeFile(path.join(opts.dataDir, 'admin-password'), adminPassword + '\n', { mode: 0o600 });
  }
  const admin: Principal = { ...SYSTEM_PRINCIPAL, userId: adminUser.id, username: 'admin' };
  const root = (await core.repos.cas.find(ROOT_CA_NAME))
    ?? (await core.cas.create(admin, { name: ROOT_CA_NAME, kind: 'root', subject: `CN=${ROOT_CA_NAME}, O=Certbridge`, keyAlgorithm: 'EC-P384', validityDays: 3650 * 2, pathLength: 1 }));
  const intermediate = (await core.repos.cas.find(INTERMEDIATE_CA_NAME))
    ?? (await core.cas.create(admin, { name: INTERMEDIATE_CA_NAME, kind: 'intermediate', parent: root.id, subject: `CN=${INTERMEDIATE_CA_NAME}, O=Certbridge`, keyAlgorithm: 'EC-P256', validityDays: 3650, pathLength: 0 }));
  const policy = (await core.repos.catalog.findPolicy('permissive'))
    ?? (await core.catalog.createPolicy(admin, { name: 'permissive', description: 'Any subject and names; up to 397 days.', rules: PERMISSIVE_RULES }));
  if (!(await core.repos.catalog.findProfile('default-tls'))) {
    await core.catalog.createProfile(admin, {
      slug: 'default-tls', name: 'Default TLS', ca: intermediate.id, policy: policy.id,
      defaults: { validityDays: 90, keyAlgorithm: 'EC-P256', keyUsages: ['digitalSignature', 'keyEncipherment'], extendedKeyUsages: ['serverAuth', 'clientAuth'] },
    });
  }
  if (!(await core.repos.catalog.findApplication('default'))) {
    await core.catalog.createApplication(admin, { name: 'default', description: 'Ready-to-use application with the default-tls profile.', profiles: ['default-tls'] });
  }
  let adminToken: string | undefined;
  if (firstStart) {
    adminToken = (await core.auth.createToken(admin, { name: 'bootstrap admin token', ...(opts.bootstrapToken ? { fixedSecret: opts.bootstrapToken } : {}) })).token;
    await fs.writeFile(tokenFile, adminToken + '\n', { mode: 0o600 });
  }
  await fs.writeFile(rootCaFile, pemEncode('CERTIFICATE', root.certificate_der!));
  return { firstStart, tokenFile, rootCaFile, ...(adminPassword ? { adminPassword } : {}), ...(adminToken ? { adminToken } : {}) };
}

/**
 * The server's own TLS certificate, issued by the intermediate and kept in the database (key
 * sealed) so every instance serves the same one. Renewed when less than 30 days remain.
 */
export async function serverTlsCertificate(core: Core, publicUrl: string, pkiUrl = publicUrl): Promise<{ key: string; cert: string }> {
  const stored = await core.db.selectFrom('settings').selectAll().where('key', '=', TLS_SETTING).executeTakeFirst();
  const now = core.clock.now();
  if (stored?.sealed && new Date(String(stored.value['notAfter'])).getTime() - now.getTime() > 30 * DAY_MS) {
    const key = importPrivateKey(core.sealer.open(stored.sealed, TLS_SETTING));
    return { key: key.export({ type: 'pkcs8', format: 'pem' }).toString(), cert: String(stored.value['chainPem']) };
  }
  const ca = await core.repos.cas.find(INTERMEDIATE_CA_NAME);
  if (!ca?.certificate_der) throw new Error(`the ${INTERMEDIATE_CA_NAME} is missing; cannot issue the server certificate`);
  const pair = generateKeyPair('EC-P256');
  const host = new URL(publicUrl).hostname.replace(/^\[|\]$/g, '');
  const names = [...new Set(['localhost', host])];
  const notAfter = new Date(now.getTime() + 397 * DAY_MS);
  const urls = pkiUrls(pkiUrl, ca.id);
  const der = signCertificate({
    serialNumber: randomSerial(), subject: parseDn(`CN=${host}`), spkiDer: new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' })),
    sans: [...names.filter((n) => !/^[\d.]+$|:/.test(n)).map((value) => ({ type: 'dns' as const, value })), { type: 'ip', value: '127.0.0.1' }, { type: 'ip', value: '::1' }],
    notBefore: new Date(now.getTime() - 60_000), notAfter, keyUsages: ['digitalSignature'], extendedKeyUsages: ['1.3.6.1.5.5.7.3.1'],
    aia: { caIssuers: [urls.caIssuers] }, crlDistributionPoints: [urls.crl],
  }, await core.keys.signer(ca));
  const chainPem = [der, ca.certificate_der].map((d) => pemEncode('CERTIFICATE', d)).join('');
  const sealed = core.sealer.seal(exportPrivateKeyPkcs8Der(pair.privateKey), TLS_SETTING);
  const value = JSON.stringify({ chainPem, notAfter: notAfter.toISOString() });
  await core.db.insertInto('settings').values({ key: TLS_SETTING, value, sealed }).onConflict((oc) => oc.column('key').doUpdateSet({ value, sealed })).execute();
  return { key: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert: chainPem };
}
