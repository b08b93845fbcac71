import { sql, type Kysely } from 'kysely';
import { parseDn } from '@certbridge/pki';

/**
 * ADCS orders as operators list them (issue 4, the SecTrail order columns: created at, request id,
 * common name, ADCS domain, template, status): the subject common name and the ADCS domain of the
 * server that took the request are stored on the order, so the list filters on them and keeps
 * showing the domain the request went to after the connection is edited.
 *
 * `adcs_server_state` holds each ADCS server's circuit breaker and request-rate token bucket in the
 * database, so several server instances on one PostgreSQL agree on a server being down and share
 * one rate cap instead of each sending the full cap.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table orders add column common_name text`.execute(db);
  await sql`alter table orders add column adcs_domain text`.execute(db);
  // Existing rows: the CN of the stored subject (written by formatDn, so parseDn reads it back
  // with its escapes), and the domain of the connection that holds the request.
  const rows = await sql<{ id: string; subject: string }>`select id, subject from orders`.execute(db);
  for (const row of rows.rows) {
    const cn = commonNameOf(row.subject);
    if (cn !== null) await sql`update orders set common_name = ${cn} where id = ${row.id}`.execute(db);
  }
  await sql`update orders set adcs_domain = c.domain from connections c where c.id::text = orders.ca_server`.execute(db);
  await sql`create index orders_common_name on orders (lower(common_name))`.execute(db);
  await sql`create index orders_ca_server on orders (ca_server) where ca_server is not null`.execute(db);
  await sql`
    create table adcs_server_state (
      connection_id uuid primary key references connections(id) on delete cascade,
      failures integer not null default 0,
      opened_at timestamptz,
      trial_at timestamptz,
      tokens double precision,
      tokens_at timestamptz
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table adcs_server_state`.execute(db);
  await sql`drop index orders_ca_server`.execute(db);
  await sql`drop index orders_common_name`.execute(db);
  await sql`alter table orders drop column adcs_domain`.execute(db);
  await sql`alter table orders drop column common_name`.execute(db);
}

function commonNameOf(subject: string): string | null {
  if (subject === '') return null;
  return parseDn(subject).find((a) => a.oid === '2.5.4.3')?.value ?? null;
}
