import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { digest } from '@certbridge/pki';
import type { Principal } from '../auth/principal.ts';
import type { Clock } from '../clock.ts';
import type { AuditRow, Database } from '../db/schema.ts';

export interface AuditEvent {
  actor: Principal | null;
  action: string;
  resourceType: string;
  resourceId?: string | null;
  outcome: 'success' | 'failure';
  details?: Record<string, unknown>;
}

const GENESIS = '0'.repeat(64);
/** Only the chainer takes this lock; writers never wait for each other. */
const CHAINER_LOCK = 0x63686e72;
const CHAIN_BATCH = 2000;

/** Every column the hash covers, except the chain link itself. */
type RowFields = Pick<AuditRow, 'id' | 'actor_type' | 'actor_id' | 'actor_name' | 'action' | 'resource_type' | 'resource_id' | 'outcome' | 'details'> & { occurred_at: Date };

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value instanceof Date ? value.toISOString() : value);
}

const rowFields = (row: AuditRow): RowFields => ({
  id: row.id, occurred_at: row.occurred_at, actor_type: row.actor_type, actor_id: row.actor_id, actor_name: row.actor_name,
  action: row.action, resource_type: row.resource_type, resource_id: row.resource_id, outcome: row.outcome, details: row.details,
});

/** The chain link: sha256(prev_hash || sha256(canonical JSON of the row's fields)). */
function linkHash(prevHashHex: string, fields: RowFields): string {
  const rowDigest = digest('sha256', canonical({ ...fields, occurred_at: fields.occurred_at.toISOString() }));
  return digest('sha256', Buffer.concat([Buffer.from(prevHashHex, 'hex'), rowDigest]), 'hex');
}

/**
 * Appends one event to the audit log inside the transaction that makes the change, so both commit
 * or neither. The row is linked into the hash chain moments later by `chainAuditLog`: linking at
 * write time would need one lock held across every COMMIT, which serialises all writers behind
 * the disk's fsync (tens of commits per second instead of thousands).
 */
export async function appendAudit(trx: Kysely<Database>, event: AuditEvent, clock: Clock): Promise<void> {
  await trx.insertInto('audit_log').values(auditRow(event, clock)).execute();
}

/** The row `appendAudit` inserts, for writers that insert many events in one statement (issuance/issuance-writer.ts). */
export function auditRow(event: AuditEvent, clock: Clock) {
  return {
    id: randomUUID(),
    // Postgres keeps microseconds, JS milliseconds: truncate so the stored value hashes the same.
    occurred_at: new Date(Math.floor(clock.now().getTime())),
    actor_type: event.actor?.via ?? 'anonymous',
    actor_id: event.actor?.userId ?? null,
    actor_name: event.actor?.username ?? null,
    action: event.action,
    resource_type: event.resourceType,
    resource_id: event.resourceId ?? null,
    outcome: event.outcome,
    details: JSON.stringify(event.details ?? {}),
  };
}

/** Appends in a transaction of its own (events that change nothing else, e.g. a failed login). */
export async function recordAudit(db: Kysely<Database>, event: AuditEvent, clock: Clock): Promise<void> {
  await db.transaction().execute((trx) => appendAudit(trx, event, clock));
}

/**
 * Links every settled row into the chain, in insertion order. A row is settled when every
 * transaction older than the oldest one still running has ended (`xid < snapshot xmin`): no row
 * can appear before it any more. One chainer works at a time across processes (a try-lock: a
 * second caller returns at once); returns how many rows it linked.
 */
export async function chainAuditLog(db: Kysely<Database>): Promise<number> {
  let total = 0;
  for (;;) {
    const linked = await db.transaction().execute(async (trx) => {
      // Another process is chaining right now: its run covers these rows too.
      const lock = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${CHAINER_LOCK}) as ok`.execute(trx);
      if (!lock.rows[0]?.ok) return 0;
      const head = await trx.selectFrom('audit_log').select(['chain_pos', 'hash']).where('chain_pos', 'is not', null).orderBy('chain_pos', 'desc').limit(1).executeTakeFirst();
      const pending = await sql<AuditRow>`
        select * from audit_log
        where chain_pos is null and xid < pg_snapshot_xmin(pg_current_snapshot())
        order by seq limit ${CHAIN_BATCH}`.execute(trx);
      let pos = BigInt(head?.chain_pos ?? '0');
      let prev = head?.hash ?? GENESIS;
      const links = pending.rows.map((row) => {
        pos += 1n;
        const hash = linkHash(prev, rowFields(row));
        const link = { seq: String(row.seq), pos: pos.toString(), prev, hash };
        prev = hash;
        return link;
      });
      if (links.length > 0) {
        await sql`
          update audit_log set chain_pos = l.pos::bigint, prev_hash = l.prev, hash = l.hash
          from (select unnest(${links.map((l) => l.seq)}::bigint[]) as seq, unnest(${links.map((l) => l.pos)}::text[]) as pos,
                       unnest(${links.map((l) => l.prev)}::text[]) as prev, unnest(${links.map((l) => l.hash)}::text[]) as hash) l
          where audit_log.seq = l.seq`.execute(trx);
      }
      return links.length;
    });
    total += linked;
    if (linked < CHAIN_BATCH) return total;
  }
}

export interface AuditVerification {
  ok: boolean;
  rows: number;
  /** Rows written but not yet linked (their transactions overlapped one still running). */
  pending: number;
  /** Hash of the newest linked row: keep it outside the database to detect removal of the newest rows too. */
  head: string;
  problem?: { seq: string; kind: 'modified' | 'broken-link'; message: string };
}

/**
 * Links what is settled, then recomputes every linked row's hash and checks each link against the
 * row before it. A modified row fails its own hash; a deleted row leaves a gap in the positions.
 */
export async function verifyAuditChain(db: Kysely<Database>, batchSize = 5000): Promise<AuditVerification> {
  await chainAuditLog(db);
  const pendingRow = await db.selectFrom('audit_log').select((eb) => eb.fn.countAll<string>().as('n')).where('chain_pos', 'is', null).executeTakeFirstOrThrow();
  const pending = Number(pendingRow.n);
  let prev = GENESIS;
  let rows = 0;
  let expectedPos = 1n;
  for (;;) {
    const batch = await db.selectFrom('audit_log').selectAll().where('chain_pos', 'is not', null)
      .where(sql<boolean>`chain_pos >= ${expectedPos.toString()}::bigint`).orderBy('chain_pos').limit(batchSize).execute();
    for (const row of batch) {
      const seq = String(row.seq);
      if (BigInt(row.chain_pos!) !== expectedPos || row.prev_hash !== prev) {
        return { ok: false, rows, pending, head: prev, problem: { seq, kind: 'broken-link', message: `row ${seq} does not follow the row before it (a row was deleted or reordered)` } };
      }
      if (linkHash(prev, rowFields(row)) !== row.hash) {
        return { ok: false, rows, pending, head: prev, problem: { seq, kind: 'modified', message: `row ${seq} was modified after it was written` } };
      }
      prev = row.hash!;
      rows += 1;
      expectedPos += 1n;
    }
    if (batch.length < batchSize) return { ok: true, rows, pending, head: prev };
  }
}
