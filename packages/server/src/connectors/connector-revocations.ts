import { X509Certificate } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { JobSpec } from '@certbridge/connector/protocol';
import { REVOCATION_REASON_CODES, type RevocationReason } from '@certbridge/pki';
import { appendAudit, recordAudit } from '../audit/audit-log.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import type { ConnectorJobs, JobOutcome } from './connector-jobs.ts';
import { connectorDb, type ConnectorJobRow } from './connectors-tables.ts';

/** A failed (or unsettled) revocation at ADCS is asked again after this long (the housekeeping sweep runs every 15 minutes). */
export const REVOCATION_RETRY_MS = 15 * 60_000;
/** An answer can arrive before the revoking transaction commits; the certificate is looked at again this much later. */
const SETTLE_AGAIN_MS = 2_000;

type RevokeJob = Extract<JobSpec, { kind: 'revoke' }>;

/**
 * The CA config string certutil takes: `<host>\<CA name>`. The host is the ADCS web enrollment
 * server's (certsrv runs on the CA in the usual install); the CA name is the CA setting when
 * there is one, else the issuer CN of the certificate, which is the CA's common name.
 */
export function caConfigString(serverUrl: string, caName: string | undefined, certificateDer: Uint8Array): string {
  const host = new URL(serverUrl).hostname;
  const name = caName ?? new X509Certificate(certificateDer).issuer.split('\n').find((l) => l.startsWith('CN='))?.slice(3);
  if (!name) throw new AppError('VALIDATION_FAILED', 'the certificate names no issuer CN; set the CA setting caName');
  return `${host}\\${name}`;
}

/** The `revoke` job for a certificate: serial and CRLReason code (RFC 5280 5.3.1, certutil's numbering). */
export const revokeJob = (config: string, serialHex: string, reason: RevocationReason): RevokeJob =>
  ({ kind: 'revoke', config, serialHex, reason: REVOCATION_REASON_CODES[reason] });

/**
 * Revocations at ADCS carried out by connectors (issue 7 item 6). A certificate of a connector CA
 * revoked in Certbridge is marked "to revoke at ADCS" and a `revoke` job is queued; when the
 * connector answers it done, the mark is cleared and audited. A failure is audited, leaves the
 * mark, and is asked again by the housekeeping sweep.
 */
export function createConnectorRevocations(deps: { db: Kysely<Database>; jobs: ConnectorJobs; clock: Clock }) {
  const { db, jobs, clock } = deps;
  const cdb = connectorDb(db);

  const target = (row: ConnectorJobRow): { caId: string; job: RevokeJob } | undefined => {
    const spec = jobs.specOf(row);
    const caId = row.payload['caId'];
    return spec?.kind === 'revoke' && typeof caId === 'string' ? { caId, job: spec } : undefined;
  };

  /** Clears the mark of a certificate ADCS has revoked; false when the revocation has not committed yet. */
  async function clear(caId: string, job: RevokeJob, jobId: string, connectorId: string): Promise<boolean> {
    return db.transaction().execute(async (trx) => {
      const cert = await trx.updateTable('certificates').set({ ca_revocation_pending: false })
        .where('ca_id', '=', caId).where('serial_hex', '=', job.serialHex).where('status', '=', 'revoked').where('ca_revocation_pending', '=', true)
        .returning('id').executeTakeFirst();
      if (!cert) return false;
      await appendAudit(trx, { actor: null, action: 'certificate.revoke-at-ca', resourceType: 'certificate', resourceId: cert.id, outcome: 'success',
        details: { serial: job.serialHex, reason: job.reason, config: job.config, connector: connectorId, job: jobId } }, clock);
      return true;
    });
  }

  async function settled(row: ConnectorJobRow, outcome: JobOutcome): Promise<void> {
    const t = target(row);
    if (!t) return;
    if (outcome.ok) {
      if (await clear(t.caId, t.job, row.id, row.connector_id)) return;
      setTimeout(() => void clear(t.caId, t.job, row.id, row.connector_id).catch(() => undefined), SETTLE_AGAIN_MS).unref();
      return;
    }
    const cert = await db.selectFrom('certificates').select('id').where('ca_id', '=', t.caId).where('serial_hex', '=', t.job.serialHex).executeTakeFirst();
    await recordAudit(db, { actor: null, action: 'certificate.revoke-at-ca', resourceType: 'certificate', resourceId: cert?.id ?? null, outcome: 'failure',
      details: { serial: t.job.serialHex, reason: t.job.reason, config: t.job.config, connector: row.connector_id, job: row.id, error: outcome.message } }, clock);
  }
  jobs.onSettled(settled);

  return {
    /**
     * The sweep: for each certificate still marked, its latest revoke job decides. Done (the
     * answer beat the commit) clears the mark; failed, or done without effect, longer than
     * REVOCATION_RETRY_MS ago is queued again for the same connector. A queued or sent job waits.
     */
    async retryDue(now: Date = clock.now()): Promise<{ cleared: number; retried: number }> {
      const latest = await cdb.selectFrom('certificates as c')
        .innerJoin('connector_jobs as j', (join) => join.on(sql`j.payload->>'caId'`, '=', sql`c.ca_id::text`).on(sql`j.payload->'job'->>'serialHex'`, '=', sql.ref('c.serial_hex')))
        .selectAll('j').distinctOn('c.id')
        .where('c.ca_revocation_pending', '=', true).where('c.status', '=', 'revoked').where('j.kind', '=', 'revoke')
        .orderBy('c.id').orderBy('j.created_at', 'desc').execute();
      let cleared = 0;
      let retried = 0;
      for (const row of latest) {
        const t = target(row);
        if (!t || row.status === 'queued' || row.status === 'sent') continue;
        if (row.status === 'done' && await clear(t.caId, t.job, row.id, row.connector_id)) {
          cleared++;
          continue;
        }
        if (!row.finished_at || now.getTime() - row.finished_at.getTime() < REVOCATION_RETRY_MS) continue;
        await jobs.enqueue({ connectorId: row.connector_id, caId: t.caId, job: t.job });
        retried++;
      }
      return { cleared, retried };
    },
  };
}

export type ConnectorRevocations = ReturnType<typeof createConnectorRevocations>;
