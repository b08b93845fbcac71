import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { bootstrap, type BootstrapResult } from '../src/bootstrap.ts';
import type { Clock } from '../src/clock.ts';
import type { AzureOptions } from '../src/connections/azure/azure-module.ts';
import { createCore, type Core } from '../src/core.ts';
import { createSealer } from '../src/crypto/sealer.ts';
import { migrateToLatest, openDatabase, type DatabaseHandle } from '../src/db/database.ts';
import { buildApp } from '../src/http/app.ts';

export type Engine = 'pglite' | 'postgres';

/**
 * Engines the medium tests run on: always PGlite; PostgreSQL too when TEST_DATABASE_URL is set
 * (CI sets it). Without it, PostgreSQL cases are reported as skipped, and say why.
 */
export const ENGINES: Engine[] = process.env['TEST_DATABASE_URL'] ? ['pglite', 'postgres'] : ['pglite'];
if (!process.env['TEST_DATABASE_URL']) console.warn('TEST_DATABASE_URL is not set: medium tests run on PGlite only');

/** A fresh, empty database: in-memory PGlite, or a new PostgreSQL database (opened with `pgOptions`) dropped on close. */
export async function freshDatabase(engine: Engine, pgOptions: { preparedStatements?: boolean } = {}): Promise<{ handle: DatabaseHandle; url?: string; drop(): Promise<void> }> {
  if (engine === 'pglite') {
    const handle = await openDatabase({ memory: true });
    return { handle, drop: () => handle.close() };
  }
  const base = new URL(process.env['TEST_DATABASE_URL']!);
  const name = `certbridge_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base.toString() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(base.toString());
  url.pathname = `/${name}`;
  const handle = await openDatabase({ url: url.toString(), ...pgOptions });
  return {
    handle,
    url: url.toString(),
    drop: async () => {
      await handle.close();
      const c = new pg.Client({ connectionString: base.toString() });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export interface TestEnv {
  engine: Engine;
  core: Core;
  app: FastifyInstance;
  handle: DatabaseHandle;
  dataDir: string;
  boot: BootstrapResult;
  adminToken: string;
  masterKey: Buffer;
  close(): Promise<void>;
}

export const PKI_URL = 'http://pki.certbridge.test';

/** A migrated, bootstrapped Certbridge with its HTTP app (not listening; use `inject`). */
export async function createTestEnv(engine: Engine, opts: { clock?: Clock; azure?: AzureOptions } = {}): Promise<TestEnv> {
  const db = await freshDatabase(engine);
  await migrateToLatest(db.handle.db);
  const masterKey = randomBytes(32);
  const core = createCore({ db: db.handle.db, sealer: createSealer(masterKey), pkiUrl: PKI_URL, ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.azure ? { azure: opts.azure } : {}) });
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-test-'));
  const boot = await bootstrap(core, { engine, dataDir, pkiUrl: PKI_URL });
  const app = await buildApp(core, { publicUrl: 'https://certbridge.test' });
  return {
    engine, core, app, handle: db.handle, dataDir, boot, adminToken: boot.adminToken!, masterKey,
    close: async () => {
      await app.close();
      await db.drop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Creates a user with a role and returns an API token for it. */
export async function userWithToken(env: TestEnv, username: string, role: 'admin' | 'operator' | 'requester' | 'auditor'): Promise<{ id: string; token: string }> {
  const admin = (await env.core.auth.authenticateToken(env.adminToken))!;
  const user = await env.core.auth.createUser(admin, { username, password: 'correct horse battery staple', role });
  const token = await env.core.auth.createToken(admin, { name: `${username} token`, userId: user.id });
  return { id: user.id, token: token.token };
}
