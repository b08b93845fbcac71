/**
 * Fixtures for the ADCS tests: adcs-sim instances (real HTTPS + NTLM/Basic, the CORP domain of
 * the SPEC sample) and a Certbridge core whose pending retries wait instantly and whose clock
 * the test moves.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Response as InjectResponse } from 'light-my-request';
import { startAdcsSim, type AdcsSim, type SimConfigInput } from '@certbridge/adcs-sim';
import { buildCsr, generateKeyPair, parseDn, pemEncode } from '@certbridge/pki';
import { bootstrap } from '../src/bootstrap.ts';
import type { Clock } from '../src/clock.ts';
import { createCore, type Core } from '../src/core.ts';
import { createSealer } from '../src/crypto/sealer.ts';
import { migrateToLatest, type DatabaseHandle } from '../src/db/database.ts';
import { buildApp } from '../src/http/app.ts';
import { bearer, freshDatabase, PKI_URL, type Engine } from './helpers.ts';

export const SIM_PASSWORD = 'Passw0rd!';

export function simConfig(extra: Partial<SimConfigInput> = {}): SimConfigInput {
  return {
    host: 'localhost',
    port: 0,
    domain: 'CORP',
    adminToken: 'certbridge-server-test-token-0123456789',
    users: [{ name: 'alice', password: SIM_PASSWORD }, { name: 'bob', password: SIM_PASSWORD }, { name: 'admin', password: SIM_PASSWORD }],
    templates: [
      { cn: 'WebServer', displayName: 'Web Server', enroll: ['alice'] },
      { cn: 'User', displayName: 'User', schemaVersion: 1, enroll: ['bob'], subject: 'account' },
      { cn: 'ManagerApproval', displayName: 'Manager Approval', enroll: ['alice'], issuance: 'manager' },
    ],
    auth: { basic: true, ntlm: true },
    ...extra,
  };
}

export const startSim = (extra: Partial<SimConfigInput> = {}): Promise<AdcsSim> => startAdcsSim(simConfig(extra));

/** A clock the test moves forward. */
export function movableClock(start = new Date()): Clock & { advance(ms: number): void; set(d: Date): void } {
  let now = start.getTime();
  return { now: () => new Date(now), advance: (ms) => void (now += ms), set: (d) => void (now = d.getTime()) };
}

export interface AdcsEnv {
  core: Core;
  app: FastifyInstance;
  handle: DatabaseHandle;
  adminToken: string;
  clock: ReturnType<typeof movableClock>;
  masterKey: Buffer;
  /** Every wait the ADCS runtime asked for (waits are instant in tests): shows quick retries happened. */
  sleeps: number[];
  /** Another core on the same database (a restarted server: no memory of the first). */
  restart(): Promise<{ core: Core; app: FastifyInstance }>;
  api(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object): Promise<InjectResponse>;
  close(): Promise<void>;
}

export async function createAdcsEnv(engine: Engine): Promise<AdcsEnv> {
  const db = await freshDatabase(engine);
  await migrateToLatest(db.handle.db);
  const masterKey = randomBytes(32);
  const clock = movableClock();
  const sleeps: number[] = [];
  const makeCore = () => createCore({ db: db.handle.db, sealer: createSealer(masterKey), pkiUrl: PKI_URL, clock, adcs: { sleep: async (ms: number) => void sleeps.push(ms) } });
  const core = makeCore();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-adcs-test-'));
  const boot = await bootstrap(core, { engine, dataDir, pkiUrl: PKI_URL });
  const app = await buildApp(core, { publicUrl: 'https://certbridge.test' });
  const extra: { core: Core; app: FastifyInstance }[] = [];
  return {
    core, app, handle: db.handle, adminToken: boot.adminToken!, clock, masterKey, sleeps,
    restart: async () => {
      const c = makeCore();
      const a = await buildApp(c, { publicUrl: 'https://certbridge.test' });
      extra.push({ core: c, app: a });
      return { core: c, app: a };
    },
    api: (method, url, payload) => app.inject({ method, url, headers: bearer(boot.adminToken!), ...(payload ? { payload } : {}) }),
    close: async () => {
      for (const e of extra) {
        await e.app.close();
        await e.core.adcs.runtime.close();
      }
      await app.close();
      await core.adcs.runtime.close();
      await db.drop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A connection to a sim over the API; returns its id. */
export async function addConnection(env: AdcsEnv, sim: AdcsSim, name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await env.api('POST', '/api/v1/connections', {
    name, type: 'adcs', url: sim.url, domain: 'CORP', username: 'alice', password: SIM_PASSWORD, auth: 'basic', caPem: sim.tlsCaPem, timeoutMs: 5000, ...extra,
  });
  if (res.statusCode !== 201) throw new Error(`connection ${name}: ${res.statusCode} ${JSON.stringify(res.json())}`);
  return res.json().id;
}

/** An ADCS CA over the given connections (priority = position + 1). */
export async function addAdcsCa(env: AdcsEnv, name: string, connectionIds: string[], settings?: Record<string, unknown>): Promise<string> {
  const res = await env.api('POST', '/api/v1/cas/adcs', { name, servers: connectionIds.map((connection, i) => ({ connection, priority: i + 1 })), ...(settings ? { settings } : {}) });
  if (res.statusCode !== 201) throw new Error(`CA ${name}: ${res.statusCode} ${JSON.stringify(res.json())}`);
  return res.json().id;
}

/** A profile on an ADCS CA with a template, attached to the `default` application. */
export async function addAdcsProfile(env: AdcsEnv, slug: string, ca: string, template: string, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await env.api('POST', '/api/v1/profiles', { slug, ca, policy: 'permissive', template, ...extra });
  if (res.statusCode !== 201) throw new Error(`profile ${slug}: ${res.statusCode} ${JSON.stringify(res.json())}`);
  const app = (await env.api('GET', '/api/v1/applications/default')).json();
  const profiles = [...app.profiles.map((p: { slug: string }) => p.slug), slug];
  const patch = await env.api('PATCH', '/api/v1/applications/default', { profiles });
  if (patch.statusCode !== 200) throw new Error(`attach ${slug}: ${patch.statusCode}`);
}

export function csrPem(cn: string, dns: string[] = []): string {
  const pair = generateKeyPair('EC-P256');
  return pemEncode('CERTIFICATE REQUEST', buildCsr({ subject: parseDn(`CN=${cn}`), sans: dns.map((value) => ({ type: 'dns' as const, value })), privateKey: pair.privateKey, publicKey: pair.publicKey }));
}

export const issue = (env: AdcsEnv, body: object) => env.api('POST', '/api/v1/applications/default/certificates', body);
