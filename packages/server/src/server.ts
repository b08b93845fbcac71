import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type PgBoss from 'pg-boss';
import { chainAuditLog } from './audit/audit-log.ts';
import { bootstrap, serverTlsCertificate, type BootstrapResult } from './bootstrap.ts';
import type { Config } from './config/config.ts';
import { createCore, type Core } from './core.ts';
import { attachConnectorHub } from './connectors/connector-hub.ts';
import { createSealer, loadMasterKey } from './crypto/sealer.ts';
import { migrateToLatest, openDatabase, type DatabaseHandle } from './db/database.ts';
import { startPgliteMaintenance } from './db/pglite-maintenance.ts';
import { REDACT_PATHS, buildApp } from './http/app.ts';
import { LOG_SERIALIZERS } from './http/log-serializers.ts';
import { startJobs } from './jobs/jobs.ts';

const AUDIT_CHAIN_INTERVAL_MS = 1000;

export interface RunningServer {
  httpUrl: string;
  httpsUrl: string;
  core: Core;
  bootstrap: BootstrapResult;
  close(): Promise<void>;
}

/** Opens the database named by the configuration, migrated, with the sealer ready. */
export async function openCore(config: Config, log?: Logger): Promise<{ handle: DatabaseHandle; core: Core }> {
  const handle = await openDatabase(config.databaseUrl ? { url: config.databaseUrl, preparedStatements: config.pgPreparedStatements } : { dataDir: config.dataDir, sharedBuffers: config.pgliteSharedBuffers, preparedStatements: config.pgPreparedStatements });
  const applied = await migrateToLatest(handle.db);
  if (applied.length) log?.info({ migrations: applied }, 'migrations applied');
  const sealer = createSealer(await loadMasterKey(config.masterKey, config.dataDir));
  return { handle, core: createCore({ db: handle.db, sealer, pkiUrl: config.pkiUrl, azure: { publicUrl: config.publicUrl, oauthApps: config.azureOauth } }) };
}

/**
 * Composition root for `certbridge serve`: configuration → database → services → bootstrap →
 * HTTP and HTTPS listeners → background jobs.
 */
export async function startServer(config: Config): Promise<RunningServer> {
  const log = pino({ level: config.logLevel, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, serializers: LOG_SERIALIZERS });
  const { handle, core } = await openCore(config, log);
  const boot = await bootstrap(core, { engine: handle.engine, dataDir: config.dataDir, bootstrapToken: config.bootstrapToken, pkiUrl: config.pkiUrl });
  const tls = await serverTlsCertificate(core, config.publicUrl, config.pkiUrl);
  const http = await buildApp(core, { publicUrl: config.publicUrl, logger: log.child({ listener: 'http' }), secureCookies: config.publicUrl.startsWith('https:'), acme: config.acme });
  const https = await buildApp(core, { publicUrl: config.publicUrl, logger: log.child({ listener: 'https' }), https: tls, acme: config.acme });
  const listen = async (app: FastifyInstance, port: number) => {
    await app.listen({ host: config.listen, port });
    const address = app.server.address();
    return typeof address === 'object' && address ? address.port : port;
  };
  const httpPort = await listen(http, config.httpPort);
  const httpsPort = await listen(https, config.httpsPort);
  // On-prem connectors dial wss://…/connector/v1/ws on the HTTPS listener (mutual TLS).
  const connectorHub = attachConnectorHub(https.server, { db: handle.db, ...core.connectors, connectors: core.connectors.service, log: log.child({ listener: 'connectors' }) });
  let boss: PgBoss | undefined;
  try {
    boss = await startJobs(handle, core, log);
  } catch (err) {
    await connectorHub.close();
    await Promise.all([http.close(), https.close()]);
    await handle.close();
    throw err;
  }
  // The embedded engine has no autovacuum of its own (db/pglite-maintenance.ts).
  const maintenance = handle.engine === 'pglite' ? startPgliteMaintenance(handle.db, log.child({ component: 'database' })) : undefined;
  // Links new audit rows into the hash chain about once a second (see audit/audit-log.ts).
  const chainer = setInterval(() => {
    chainAuditLog(handle.db).catch((err: unknown) => log.error({ err }, 'audit chaining failed'));
  }, AUDIT_CHAIN_INTERVAL_MS);
  chainer.unref();
  const host = config.listen.includes(':') ? `[${config.listen}]` : config.listen;
  return {
    httpUrl: `http://${host}:${httpPort}`,
    httpsUrl: `https://${host}:${httpsPort}`,
    core,
    bootstrap: boot,
    close: async () => {
      clearInterval(chainer);
      await maintenance?.stop();
      await boss?.stop({ graceful: false, wait: true });
      await connectorHub.close();
      await Promise.all([http.close(), https.close()]);
      await handle.close();
    },
  };
}
