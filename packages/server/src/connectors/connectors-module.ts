import type { Kysely } from 'kysely';
import { pemEncode } from '@certbridge/pki';
import { INTERMEDIATE_CA_NAME } from '../bootstrap.ts';
import type { Clock } from '../clock.ts';
import type { Sealer } from '../crypto/sealer.ts';
import type { Database } from '../db/schema.ts';
import { createConnectorAdcsOptions } from './adcs-options.ts';
import { createConnectorCa } from './connector-ca.ts';
import { createConnectorJobs, type Sleep } from './connector-jobs.ts';
import { createConnectorPkcs12Store } from './connector-pkcs12.ts';
import { createConnectorRevocations } from './connector-revocations.ts';
import { createConnectorsService, type ServerTrust } from './connectors-service.ts';

/**
 * The server's trust anchors for connectors: the issuers of the HTTPS certificate (the internal
 * intermediate and its root), which the connector pins instead of the system store.
 */
function serverTrust(db: Kysely<Database>): ServerTrust {
  return async () => {
    const ca = await db.selectFrom('cas').selectAll().where('name', '=', INTERMEDIATE_CA_NAME).executeTakeFirst();
    if (!ca?.certificate_der) throw new Error(`the ${INTERMEDIATE_CA_NAME} is missing`);
    const ders = [ca.certificate_der, ...ca.chain.map((b) => new Uint8Array(Buffer.from(b, 'base64')))];
    return { caPem: ders.map((d) => pemEncode('CERTIFICATE', d)).join(''), pinDer: ca.certificate_der };
  };
}

/** Wiring of the connector side of the server (issue 7): Connector CA, lifecycle, job queue, PKCS#12 store. */
export function createConnectorsModule(deps: { db: Kysely<Database>; sealer: Sealer; clock: Clock; sleep?: Sleep }) {
  const ca = createConnectorCa(deps);
  const service = createConnectorsService({ db: deps.db, ca, clock: deps.clock, trust: serverTrust(deps.db) });
  const jobs = createConnectorJobs({ db: deps.db, sealer: deps.sealer, ...(deps.sleep ? { sleep: deps.sleep } : {}) });
  const pkcs12 = createConnectorPkcs12Store(deps);
  const revocations = createConnectorRevocations({ db: deps.db, jobs, clock: deps.clock });
  return {
    ca, service, jobs, pkcs12, revocations, adcsOptions: createConnectorAdcsOptions(deps.db, deps.sealer),
    /** CA chains fetched through connectors, by CA and server (connector backend). */
    chains: new Map<string, { at: number; ders: Uint8Array[] }>(),
    /** Background sweep (pg-boss `connector-housekeeping`): retention of jobs and unclaimed PKCS#12 files, revocations at ADCS asked again. */
    async housekeeping(): Promise<{ deleted: number; abandoned: number; pkcs12Purged: number; revocationsCleared: number; revocationsRetried: number }> {
      const r = await revocations.retryDue(deps.clock.now());
      return { ...(await jobs.housekeeping(deps.clock.now())), pkcs12Purged: await pkcs12.purgeExpired(), revocationsCleared: r.cleared, revocationsRetried: r.retried };
    },
  };
}

export type ConnectorsModule = ReturnType<typeof createConnectorsModule>;
