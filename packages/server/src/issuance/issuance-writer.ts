import { sql, type Kysely } from 'kysely';
import { auditRow, type AuditEvent } from '../audit/audit-log.ts';
import type { Clock } from '../clock.ts';
import type { CertificateRow, Database, OrderRow } from '../db/schema.ts';

/** One finished issuance: the order in its final state, its certificate and its audit event. */
export interface IssuedRecord {
  order: OrderRow;
  certificate: CertificateRow;
  audit: AuditEvent;
}

export interface IssuanceWriterOptions {
  /** Most records in one statement (bounds the statement's size and one batch's latency). */
  maxBatch?: number;
}

type Pending = { record: IssuedRecord; resolve: () => void; reject: (err: unknown) => void };

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
const hex = (b: Uint8Array | null): string | null => (b ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex') : null);
const json = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/**
 * Group commit for issued certificates. Every record becomes three rows (order, certificate,
 * audit event) and a batch of records is written by ONE statement (data-modifying CTEs over
 * `unnest` arrays: one round trip, one implicit transaction, one WAL flush), so concurrent
 * issuances share the commit's fsync instead of queueing behind one each.
 *
 * A batch is sent as soon as the event loop is idle and no other batch is in flight; records that
 * arrive meanwhile wait for the next one. `write` resolves only after the statement holding its
 * record has committed, so no caller ever hands out a certificate that is not durable. When a batch
 * fails (e.g. one row breaks a constraint because its application was just deleted), each of its
 * records is retried alone, so a failure fails exactly the records that cause it.
 */
export function createIssuanceWriter(db: Kysely<Database>, clock: Clock, options: IssuanceWriterOptions = {}) {
  const maxBatch = options.maxBatch ?? 500;
  let queue: Pending[] = [];
  let busy = false;
  let scheduled = false;

  async function insert(records: IssuedRecord[]): Promise<void> {
    const o = records.map((r) => r.order);
    const c = records.map((r) => r.certificate);
    const a = records.map((r) => auditRow(r.audit, clock));
    // Every value travels as text[] and is cast in SQL: one statement text for every batch size
    // (prepared once per connection on PostgreSQL) and one encoding both drivers agree on.
    await sql`
      with new_orders as (
        insert into orders (id, application_id, profile_id, ca_id, requester_id, protocol, status, csr_der, subject, sans, common_name,
          key_algorithm, server_key_sealed, ca_request_id, ca_server, template, disposition, hresult, error, attempts, next_poll_at,
          certificate_id, warning, created_at, updated_at)
        select id::uuid, application_id::uuid, profile_id::uuid, ca_id::uuid, requester_id::uuid, protocol, status, decode(csr_der, 'hex'), subject, sans::jsonb, common_name,
          key_algorithm, server_key_sealed, ca_request_id, ca_server, template, disposition, hresult, error::jsonb, attempts::integer, next_poll_at::timestamptz,
          certificate_id::uuid, warning, created_at::timestamptz, updated_at::timestamptz
        from unnest(${o.map((r) => r.id)}::text[], ${o.map((r) => r.application_id)}::text[], ${o.map((r) => r.profile_id)}::text[], ${o.map((r) => r.ca_id)}::text[],
          ${o.map((r) => r.requester_id)}::text[], ${o.map((r) => r.protocol)}::text[], ${o.map((r) => r.status)}::text[], ${o.map((r) => hex(r.csr_der))}::text[],
          ${o.map((r) => r.subject)}::text[], ${o.map((r) => json(r.sans))}::text[], ${o.map((r) => r.common_name)}::text[], ${o.map((r) => r.key_algorithm)}::text[],
          ${o.map((r) => r.server_key_sealed)}::text[], ${o.map((r) => r.ca_request_id)}::text[], ${o.map((r) => r.ca_server)}::text[], ${o.map((r) => r.template)}::text[],
          ${o.map((r) => r.disposition)}::text[], ${o.map((r) => r.hresult)}::text[], ${o.map((r) => (r.error === null ? null : json(r.error)))}::text[],
          ${o.map((r) => String(r.attempts))}::text[], ${o.map((r) => iso(r.next_poll_at))}::text[], ${o.map((r) => r.certificate_id)}::text[], ${o.map((r) => r.warning)}::text[],
          ${o.map((r) => iso(r.created_at))}::text[], ${o.map((r) => iso(r.updated_at))}::text[])
          as t(id, application_id, profile_id, ca_id, requester_id, protocol, status, csr_der, subject, sans, common_name, key_algorithm, server_key_sealed,
               ca_request_id, ca_server, template, disposition, hresult, error, attempts, next_poll_at, certificate_id, warning, created_at, updated_at)
      ), new_certificates as (
        insert into certificates (id, ca_id, order_id, application_id, profile_id, requester_id, serial_hex, subject, sans, search_text, key_algorithm,
          fingerprint_sha256, not_before, not_after, status, revoked_at, revocation_reason, der, chain, private_key_sealed, renewed_from_id,
          ca_revocation_pending, created_at)
        select id::uuid, ca_id::uuid, order_id::uuid, application_id::uuid, profile_id::uuid, requester_id::uuid, serial_hex, subject, sans::jsonb, search_text, key_algorithm,
          fingerprint_sha256, not_before::timestamptz, not_after::timestamptz, status, revoked_at::timestamptz, revocation_reason, decode(der, 'hex'), chain::jsonb,
          private_key_sealed, renewed_from_id::uuid, ca_revocation_pending::boolean, created_at::timestamptz
        from unnest(${c.map((r) => r.id)}::text[], ${c.map((r) => r.ca_id)}::text[], ${c.map((r) => r.order_id)}::text[], ${c.map((r) => r.application_id)}::text[],
          ${c.map((r) => r.profile_id)}::text[], ${c.map((r) => r.requester_id)}::text[], ${c.map((r) => r.serial_hex)}::text[], ${c.map((r) => r.subject)}::text[],
          ${c.map((r) => json(r.sans))}::text[], ${c.map((r) => r.search_text)}::text[], ${c.map((r) => r.key_algorithm)}::text[], ${c.map((r) => r.fingerprint_sha256)}::text[],
          ${c.map((r) => iso(r.not_before))}::text[], ${c.map((r) => iso(r.not_after))}::text[], ${c.map((r) => r.status)}::text[], ${c.map((r) => iso(r.revoked_at))}::text[],
          ${c.map((r) => r.revocation_reason)}::text[], ${c.map((r) => hex(r.der))}::text[], ${c.map((r) => json(r.chain))}::text[], ${c.map((r) => r.private_key_sealed)}::text[],
          ${c.map((r) => r.renewed_from_id)}::text[], ${c.map((r) => String(r.ca_revocation_pending))}::text[], ${c.map((r) => iso(r.created_at))}::text[])
          as t(id, ca_id, order_id, application_id, profile_id, requester_id, serial_hex, subject, sans, search_text, key_algorithm, fingerprint_sha256,
               not_before, not_after, status, revoked_at, revocation_reason, der, chain, private_key_sealed, renewed_from_id, ca_revocation_pending, created_at)
      )
      insert into audit_log (id, occurred_at, actor_type, actor_id, actor_name, action, resource_type, resource_id, outcome, details)
      select id::uuid, occurred_at::timestamptz, actor_type, actor_id, actor_name, action, resource_type, resource_id, outcome, details::jsonb
      from unnest(${a.map((r) => r.id)}::text[], ${a.map((r) => iso(r.occurred_at))}::text[], ${a.map((r) => r.actor_type)}::text[], ${a.map((r) => r.actor_id)}::text[],
        ${a.map((r) => r.actor_name)}::text[], ${a.map((r) => r.action)}::text[], ${a.map((r) => r.resource_type)}::text[], ${a.map((r) => r.resource_id)}::text[],
        ${a.map((r) => r.outcome)}::text[], ${a.map((r) => r.details)}::text[])
        as t(id, occurred_at, actor_type, actor_id, actor_name, action, resource_type, resource_id, outcome, details)`.execute(db);
  }

  async function flush(): Promise<void> {
    scheduled = false;
    if (busy || queue.length === 0) return;
    busy = true;
    const batch = queue.slice(0, maxBatch);
    queue = queue.slice(batch.length);
    try {
      await insert(batch.map((p) => p.record));
      for (const p of batch) p.resolve();
    } catch (err) {
      if (batch.length === 1) batch[0]!.reject(err);
      else {
        // One bad record must not fail its neighbours: each is tried alone, and only its own error is reported.
        for (const p of batch) await insert([p.record]).then(p.resolve, p.reject);
      }
    } finally {
      busy = false;
      if (queue.length > 0) schedule();
    }
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    // setImmediate: requests whose work finished in this turn of the event loop join the batch.
    setImmediate(() => void flush());
  }

  return {
    /** Resolves once the record is committed; rejects with the database's error for this record. */
    write(record: IssuedRecord): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        queue.push({ record, resolve, reject });
        if (!busy) schedule();
      });
    },
  };
}

export type IssuanceWriter = ReturnType<typeof createIssuanceWriter>;
