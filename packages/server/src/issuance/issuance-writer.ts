import { CompiledQuery, type Kysely } from 'kysely';
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

/** The batch statement (see createIssuanceWriter); parameters are the text[] columns in order. */
const INSERT_BATCH = `      with new_orders as (
        insert into orders (id, application_id, profile_id, ca_id, requester_id, protocol, status, csr_der, subject, sans, common_name,
          key_algorithm, server_key_sealed, ca_request_id, ca_server, template, disposition, hresult, error, attempts, next_poll_at,
          certificate_id, warning, created_at, updated_at)
        select id::uuid, application_id::uuid, profile_id::uuid, ca_id::uuid, requester_id::uuid, protocol, status, decode(csr_der, 'hex'), subject, sans::jsonb, common_name,
          key_algorithm, server_key_sealed, ca_request_id, ca_server, template, disposition, hresult, error::jsonb, attempts::integer, next_poll_at::timestamptz,
          certificate_id::uuid, warning, created_at::timestamptz, updated_at::timestamptz
        from unnest($1::text[], $2::text[], $3::text[], $4::text[],
          $5::text[], $6::text[], $7::text[], $8::text[],
          $9::text[], $10::text[], $11::text[], $12::text[],
          $13::text[], $14::text[], $15::text[], $16::text[],
          $17::text[], $18::text[], $19::text[],
          $20::text[], $21::text[], $22::text[], $23::text[],
          $24::text[], $25::text[])
          as t(id, application_id, profile_id, ca_id, requester_id, protocol, status, csr_der, subject, sans, common_name, key_algorithm, server_key_sealed,
               ca_request_id, ca_server, template, disposition, hresult, error, attempts, next_poll_at, certificate_id, warning, created_at, updated_at)
      ), new_certificates as (
        insert into certificates (id, ca_id, order_id, application_id, profile_id, requester_id, serial_hex, subject, sans, search_text, key_algorithm,
          fingerprint_sha256, not_before, not_after, status, revoked_at, revocation_reason, der, chain, private_key_sealed, renewed_from_id,
          ca_revocation_pending, created_at)
        select id::uuid, ca_id::uuid, order_id::uuid, application_id::uuid, profile_id::uuid, requester_id::uuid, serial_hex, subject, sans::jsonb, search_text, key_algorithm,
          fingerprint_sha256, not_before::timestamptz, not_after::timestamptz, status, revoked_at::timestamptz, revocation_reason, decode(der, 'hex'), chain::jsonb,
          private_key_sealed, renewed_from_id::uuid, ca_revocation_pending::boolean, created_at::timestamptz
        from unnest($26::text[], $27::text[], $28::text[], $29::text[],
          $30::text[], $31::text[], $32::text[], $33::text[],
          $34::text[], $35::text[], $36::text[], $37::text[],
          $38::text[], $39::text[], $40::text[], $41::text[],
          $42::text[], $43::text[], $44::text[], $45::text[],
          $46::text[], $47::text[], $48::text[])
          as t(id, ca_id, order_id, application_id, profile_id, requester_id, serial_hex, subject, sans, search_text, key_algorithm, fingerprint_sha256,
               not_before, not_after, status, revoked_at, revocation_reason, der, chain, private_key_sealed, renewed_from_id, ca_revocation_pending, created_at)
      )
      insert into audit_log (id, occurred_at, actor_type, actor_id, actor_name, action, resource_type, resource_id, outcome, details)
      select id::uuid, occurred_at::timestamptz, actor_type, actor_id, actor_name, action, resource_type, resource_id, outcome, details::jsonb
      from unnest($49::text[], $50::text[], $51::text[], $52::text[],
        $53::text[], $54::text[], $55::text[], $56::text[],
        $57::text[], $58::text[])
        as t(id, occurred_at, actor_type, actor_id, actor_name, action, resource_type, resource_id, outcome, details)`;

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
    // (compiled once, here) and one encoding both drivers agree on.
    await db.executeQuery(CompiledQuery.raw(INSERT_BATCH, [
      o.map((r) => r.id),
      o.map((r) => r.application_id),
      o.map((r) => r.profile_id),
      o.map((r) => r.ca_id),
      o.map((r) => r.requester_id),
      o.map((r) => r.protocol),
      o.map((r) => r.status),
      o.map((r) => hex(r.csr_der)),
      o.map((r) => r.subject),
      o.map((r) => json(r.sans)),
      o.map((r) => r.common_name),
      o.map((r) => r.key_algorithm),
      o.map((r) => r.server_key_sealed),
      o.map((r) => r.ca_request_id),
      o.map((r) => r.ca_server),
      o.map((r) => r.template),
      o.map((r) => r.disposition),
      o.map((r) => r.hresult),
      o.map((r) => (r.error === null ? null : json(r.error))),
      o.map((r) => String(r.attempts)),
      o.map((r) => iso(r.next_poll_at)),
      o.map((r) => r.certificate_id),
      o.map((r) => r.warning),
      o.map((r) => iso(r.created_at)),
      o.map((r) => iso(r.updated_at)),
      c.map((r) => r.id),
      c.map((r) => r.ca_id),
      c.map((r) => r.order_id),
      c.map((r) => r.application_id),
      c.map((r) => r.profile_id),
      c.map((r) => r.requester_id),
      c.map((r) => r.serial_hex),
      c.map((r) => r.subject),
      c.map((r) => json(r.sans)),
      c.map((r) => r.search_text),
      c.map((r) => r.key_algorithm),
      c.map((r) => r.fingerprint_sha256),
      c.map((r) => iso(r.not_before)),
      c.map((r) => iso(r.not_after)),
      c.map((r) => r.status),
      c.map((r) => iso(r.revoked_at)),
      c.map((r) => r.revocation_reason),
      c.map((r) => hex(r.der)),
      c.map((r) => json(r.chain)),
      c.map((r) => r.private_key_sealed),
      c.map((r) => r.renewed_from_id),
      c.map((r) => String(r.ca_revocation_pending)),
      c.map((r) => iso(r.created_at)),
      a.map((r) => r.id),
      a.map((r) => iso(r.occurred_at)),
      a.map((r) => r.actor_type),
      a.map((r) => r.actor_id),
      a.map((r) => r.actor_name),
      a.map((r) => r.action),
      a.map((r) => r.resource_type),
      a.map((r) => r.resource_id),
      a.map((r) => r.outcome),
      a.map((r) => r.details),
    ]));
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
