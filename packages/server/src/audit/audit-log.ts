import { createHash, randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
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
// One advisory lock key for the chain: appends from every process line up behind it, so each
// row's prev_hash is the hash of the row committed just before it.
const CHAIN_LOCK = 0x63657274;

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

/** SHA-256 of the row's own fields (canonical JSON), computed in JS. */
function rowDigest(fields: RowFields): Buffer {
  return createHash('sha256').update(canonical({ ...fields, occurred_at: fields.occurred_at.toISOString() })).digest();
}

/** The chain link: sha256(prev_hash || row digest), the same formula the INSERT evaluates in SQL. */
function linkHash(prevHashHex: string, digest: Buffer): string {
  return createHash('sha256').update(Buffer.from(prevHashHex, 'hex')).update(digest).digest('hex');
}

/**
 * Appends one event to the hash-chained audit log. Call it inside the transaction that makes the
 * change (so both commit or neither), as the transaction's last statement: it takes the chain lock,
 * which is held until COMMIT. The lock must be its own statement: under READ COMMITTED a statement
 * sees the snapshot taken when it started, so reading the previous hash in the statement that waited
 * for the lock could miss a row committed meanwhile. Read and insert are then one statement.
 */
export async function appendAudit(trx: Kysely<Database>, event: AuditEvent, clock: Clock): Promise<void> {
  // Postgres keeps microseconds, JS milliseconds: truncate so the stored value hashes the same.
  const fields: RowFields = {
    id: randomUUID(),
    occurred_at: new Date(Math.floor(clock.now().getTime())),
    actor_type: event.actor?.via ?? 'anonymous',
    actor_id: event.actor?.userId ?? null,
    actor_name: event.actor?.username ?? null,
    action: event.action,
    resource_type: event.resourceType,
    resource_id: event.resourceId ?? null,
    outcome: event.outcome,
    details: event.details ?? {},
  };
  const digest = rowDigest(fields).toString('hex');
  await sql`select pg_advisory_xact_lock(${CHAIN_LOCK})`.execute(trx);
  await sql`
    with prev as (
      select coalesce((select hash from audit_log order by seq desc limit 1), ${GENESIS}) as hash
    )
    insert into audit_log (id, occurred_at, actor_type, actor_id, actor_name, action, resource_type, resource_id, outcome, details, prev_hash, hash)
    select ${fields.id}::uuid, ${fields.occurred_at}, ${fields.actor_type}, ${fields.actor_id}, ${fields.actor_name}, ${fields.action},
      ${fields.resource_type}, ${fields.resource_id}, ${fields.outcome}, ${JSON.stringify(fields.details)}::jsonb, prev.hash,
      encode(sha256(decode(prev.hash, 'hex') || decode(${digest}, 'hex')), 'hex')
    from prev`.execute(trx);
}

/** Appends in a transaction of its own (events that change nothing else, e.g. a failed login). */
export async function recordAudit(db: Kysely<Database>, event: AuditEvent, clock: Clock): Promise<void> {
  await db.transaction().execute((trx) => appendAudit(trx, event, clock));
}

export interface AuditVerification {
  ok: boolean;
  rows: number;
  /** Hash of the newest row: keep it outside the database to detect removal of the newest rows too. */
  head: string;
  problem?: { seq: string; kind: 'modified' | 'broken-link'; message: string };
}

/**
 * Recomputes every row's hash and checks each prev_hash against the row before it. A modified
 * row fails its own hash; a deleted row breaks the link of the row after it.
 */
export async function verifyAuditChain(db: Kysely<Database>, batchSize = 5000): Promise<AuditVerification> {
  let prev = GENESIS;
  let rows = 0;
  let afterSeq = '0';
  for (;;) {
    const batch = await db
      .selectFrom('audit_log')
      .selectAll()
      .where(sql<boolean>`seq > ${afterSeq}::bigint`)
      .orderBy('seq')
      .limit(batchSize)
      .execute();
    for (const row of batch) {
      const { seq, hash, prev_hash, ...fields } = row;
      if (prev_hash !== prev) {
        return { ok: false, rows, head: prev, problem: { seq: String(seq), kind: 'broken-link', message: `row ${seq} does not follow the row before it (a row was deleted or reordered)` } };
      }
      if (linkHash(prev_hash, rowDigest(fields)) !== hash) {
        return { ok: false, rows, head: prev, problem: { seq: String(seq), kind: 'modified', message: `row ${seq} was modified after it was written` } };
      }
      prev = hash;
      rows += 1;
      afterSeq = String(seq);
    }
    if (batch.length < batchSize) return { ok: true, rows, head: prev };
  }
}
