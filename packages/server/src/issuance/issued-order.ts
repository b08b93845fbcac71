import { sql, type Kysely } from 'kysely';
import { auditRow, type AuditEvent } from '../audit/audit-log.ts';
import type { Clock } from '../clock.ts';
import type { CertificateRow, Database, OrderRow } from '../db/schema.ts';

/** What an order that a remote CA (ADCS, connector) just issued becomes. */
export interface IssuedOrderChange {
  /** The order as recorded before the CA was asked. */
  order: OrderRow;
  certificate: CertificateRow;
  /** Columns of the order the outcome sets (status, certificate_id, CA request id, server, …). */
  patch: Pick<OrderRow, 'status' | 'certificate_id' | 'server_key_sealed' | 'attempts' | 'next_poll_at' | 'disposition' | 'ca_request_id' | 'ca_server' | 'warning'>;
  audit: AuditEvent;
}

/**
 * Stores the certificate of an order that already exists, moves the order to its final state and
 * appends the audit event, as ONE statement (data-modifying CTEs): one round trip and one commit
 * instead of BEGIN, three statements and COMMIT, with the same all-or-nothing effect. The order row
 * comes back from the update, so its `adcs_domain` (the domain of the connection that took the
 * request, migration 0008) and `updated_at` are the stored ones.
 */
export async function recordIssuedOrder(db: Kysely<Database>, clock: Clock, change: IssuedOrderChange): Promise<OrderRow> {
  const { order, certificate: c, patch, audit } = change;
  const server = patch.ca_server;
  return db
    .with('new_certificate', (q) => q.insertInto('certificates').values({
      ...c, sans: JSON.stringify(c.sans), chain: JSON.stringify(c.chain),
    }))
    .with('new_audit', (q) => q.insertInto('audit_log').values(auditRow(audit, clock)))
    .with('issued_order', (q) => q.updateTable('orders').set((eb) => ({
      ...patch, updated_at: new Date(),
      // As orders-repository's update: a recorded server brings its ADCS domain along.
      ...(server ? { adcs_domain: eb.selectFrom('connections').select('domain').where(sql<string>`id::text`, '=', server) } : {}),
    })).where('id', '=', order.id).returningAll())
    .selectFrom('issued_order').selectAll().executeTakeFirstOrThrow();
}
