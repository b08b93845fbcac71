import type { Kysely } from 'kysely';
import { createApplicationAccess } from './auth/application-access.ts';
import { createAuthService } from './auth/auth-service.ts';
import { createAdcsCaService } from './ca-backends/adcs/adcs-ca-service.ts';
import { createAdcsRuntime, type AdcsRuntimeOptions } from './ca-backends/adcs/adcs-runtime.ts';
import { createAdcsTemplates } from './ca-backends/adcs/adcs-templates.ts';
import { createPendingOrders } from './ca-backends/adcs/pending-orders.ts';
import { createAdcsSubordinates } from './ca-backends/adcs/adcs-subordinate.ts';
import { backendFor, type BackendDeps } from './ca-backends/registry.ts';
import { createConnectionService } from './connections/connection-service.ts';
import { createConnectionsRepository } from './connections/connections-repository.ts';
import { createConnectorsModule } from './connectors/connectors-module.ts';
import { createAzureModule, type AzureOptions } from './connections/azure/azure-module.ts';
import { createCaKeyStore } from './cas/ca-keys.ts';
import { createCaService } from './cas/ca-service.ts';
import { createCertificateService } from './certificates/certificate-service.ts';
import { systemClock, type Clock } from './clock.ts';
import type { Sealer } from './crypto/sealer.ts';
import type { Database } from './db/schema.ts';
import { createCatalogService } from './issuance/catalog-service.ts';
import { createIssuanceService } from './issuance/issuance-service.ts';
import { withIssuanceEvents, withRevocationEvents } from './syncs/sync-events.ts';
import type { VaultOpener } from './syncs/sync-reconciler.ts';
import { createSyncsModule } from './syncs/syncs-module.ts';
import { createCasRepository } from './repositories/cas-repository.ts';
import { createCatalogRepository } from './repositories/catalog-repository.ts';
import { createCatalogCache } from './repositories/catalog-cache.ts';
import { createCertificatesRepository } from './repositories/certificates-repository.ts';
import { createOrdersRepository } from './repositories/orders-repository.ts';
import { createUsersRepository } from './repositories/users-repository.ts';
import { createCrlService } from './revocation/crl-service.ts';
import { createOcspResponderStore } from './revocation/ocsp-responder.ts';
import { createOcspService } from './revocation/ocsp-service.ts';
import { createOrderFeed } from './issuance/order-feed.ts';

export interface CoreOptions {
  db: Kysely<Database>;
  sealer: Sealer;
  pkiUrl: string;
  clock?: Clock;
  /** ADCS timing knobs (tests make the pending retries and rate cap wait instantly). */
  adcs?: Pick<AdcsRuntimeOptions, 'sleep' | 'quickRetryDelaysMs' | 'breaker'>;
  /** Azure connections (issue 8): OAuth apps and the public URL of the redirect URI. */
  azure?: AzureOptions;
  /** Key Vault syncs (issue 8): tests open an in-memory vault instead of Azure. */
  syncs?: { openVault?: VaultOpener };
}

/**
 * The composition of repositories and services, shared by the HTTP server, the CLI and the
 * background jobs. Explicit wiring: each service receives only what it uses.
 */
export function createCore({ db, sealer, pkiUrl, clock = systemClock, adcs: adcsOptions = {}, azure: azureOptions = {}, syncs: syncsOptions = {} }: CoreOptions) {
  // Catalogue reads of the issuance path, shared by both repositories, checked against the database's version counter.
  const catalogCache = createCatalogCache(db);
  const repos = {
    users: createUsersRepository(db),
    cas: createCasRepository(db, catalogCache),
    catalog: createCatalogRepository(db, catalogCache),
    orders: createOrdersRepository(db),
    certificates: createCertificatesRepository(db),
  };
  const keys = createCaKeyStore(sealer);
  const adcsRuntime = createAdcsRuntime({ db, sealer, clock, ...adcsOptions });
  const connectors = createConnectorsModule({ db, sealer, clock });
  const backends: BackendDeps = { keys, pkiUrl, adcs: adcsRuntime, connectors };
  const connectionsRepo = createConnectionsRepository(db);
  const connections = createConnectionService({ db, connections: connectionsRepo, sealer, clock, onChange: (id) => adcsRuntime.pool.forget(id) });
  const azure = createAzureModule({ db, sealer, clock, users: repos.users, options: azureOptions, nameTaken: async (name) => Boolean(await connectionsRepo.find(name)) });
  const syncs = createSyncsModule({ db, sealer, clock, catalog: repos.catalog, catalogCache, credentials: azure.credentials, ...syncsOptions });
  const adcsTemplates = createAdcsTemplates({ db, runtime: adcsRuntime, clock, templatesVia: (ca) => backendFor(ca, backends).templates });
  const access = createApplicationAccess(repos.catalog);
  const auth = createAuthService({ db, users: repos.users, clock });
  const cas = createCaService({ db, cas: repos.cas, keys, clock, pkiUrl });
  const catalog = createCatalogService({ db, catalog: repos.catalog, cas: repos.cas, users: repos.users, access, clock, templateCheck: adcsTemplates.checkProfileTemplate });
  const issuance = withIssuanceEvents(createIssuanceService({ db, ...repos, sealer, backends, clock }), syncs.hooks);
  const adcs = {
    runtime: adcsRuntime,
    templates: adcsTemplates,
    cas: createAdcsCaService({ db, cas: repos.cas, connections: connectionsRepo, runtime: adcsRuntime, templates: adcsTemplates, clock }),
    pending: createPendingOrders({ db, issuance, access, clock }),
    subordinates: createAdcsSubordinates({ db, cas: repos.cas, keys, backends, clock }),
  };
  const crl = createCrlService({ db, cas: repos.cas, certificates: repos.certificates, keys, clock });
  const responders = createOcspResponderStore({ db, keys, sealer, clock });
  const ocsp = createOcspService({ cas: repos.cas, certificates: repos.certificates, keys, responders, clock });
  const certificates = withRevocationEvents(createCertificateService({
    db, certificates: repos.certificates, orders: repos.orders, cas: repos.cas, catalog: repos.catalog, access, issuance, sealer, backends, clock,
    hooks: { afterRevocation: async (caId) => void (await crl.regenerate(caId)) }, connectorPkcs12: connectors.pkcs12,
  }), syncs.hooks);
  /** One order change feed per process (GET /api/v1/orders/events), shared by both listeners. */
  const orderFeed = createOrderFeed({ db });
  return { db, clock, sealer, repos, keys, access, auth, cas, catalog, issuance, crl, ocsp, certificates, connections, adcs, connectors, azure, syncs, orderFeed };
}

export type Core = ReturnType<typeof createCore>;
