import type { Migration } from 'kysely';
import * as initial from './0001-initial.ts';
import * as adcs from './0002-adcs.ts';
import * as estScep from './0003-est-scep.ts';
import * as acme from './0004-acme.ts';
import * as connectors from './0005-connectors.ts';
import * as azure from './0006-azure.ts';
import * as connectorJobs from './0007-connector-jobs.ts';
import * as adcsOrders from './0008-adcs-orders.ts';
import * as enrollment from './0009-enrollment.ts';
import * as performance from './0010-performance.ts';
import * as syncs from './0011-syncs.ts';
import * as acmeMore from './0012-acme-more.ts';
import * as inventorySearch from './0014-inventory-search.ts';
import * as connectionKeytab from './0016-connection-keytab.ts';
import * as syncCacheVersion from './0017-sync-cache-version.ts';
import * as acmeLookupIndexes from './0018-acme-lookup-indexes.ts';
import * as azureRotationClaim from './0019-azure-rotation-claim.ts';
import * as acmeOrderFollowsIssuance from './0020-acme-order-follows-issuance.ts';

/** Versioned migrations, applied in key order at start (names must sort in order). */
export const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-adcs': adcs,
  '0003-est-scep': estScep,
  '0004-acme': acme,
  '0005-connectors': connectors,
  '0006-azure': azure,
  '0007-connector-jobs': connectorJobs,
  '0008-adcs-orders': adcsOrders,
  '0009-enrollment': enrollment,
  '0010-performance': performance,
  '0011-syncs': syncs,
  '0012-acme-more': acmeMore,
  '0014-inventory-search': inventorySearch,
  '0016-connection-keytab': connectionKeytab,
  '0017-sync-cache-version': syncCacheVersion,
  '0018-acme-lookup-indexes': acmeLookupIndexes,
  '0019-azure-rotation-claim': azureRotationClaim,
  '0020-acme-order-follows-issuance': acmeOrderFollowsIssuance,
};
