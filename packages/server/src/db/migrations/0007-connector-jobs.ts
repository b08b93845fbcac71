import { sql, type Kysely } from 'kysely';

/**
 * Connector jobs that outlive the HTTP request (issue 7): a job remembers the order it serves
 * (background completion, cancellation of jobs whose order ended), when it finished (latency,
 * retention), and how often it was handed to a socket (re-deliveries after a crash). A renewed
 * connector certificate keeps the previous serial valid until the new one is first used, so a
 * connector that dies between "server issued" and "saved to disk" is not locked out. PKCS#12
 * files a connector generated wait here, sealed, until the requester downloads them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table connector_jobs add column order_id uuid`.execute(db);
  await sql`alter table connector_jobs add column finished_at timestamptz`.execute(db);
  await sql`alter table connector_jobs add column deliveries integer not null default 0`.execute(db);
  await sql`create index connector_jobs_order on connector_jobs (order_id) where order_id is not null`.execute(db);
  await sql`alter table connectors add column previous_serial_hex text`.execute(db);
  await sql`
    create table connector_pkcs12 (
      order_id uuid primary key,
      sealed text not null,
      password_hash text not null,
      expires_at timestamptz not null,
      created_at timestamptz not null default now()
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table connector_pkcs12`.execute(db);
  await sql`alter table connectors drop column previous_serial_hex`.execute(db);
  await sql`drop index connector_jobs_order`.execute(db);
  await sql`alter table connector_jobs drop column deliveries`.execute(db);
  await sql`alter table connector_jobs drop column finished_at`.execute(db);
  await sql`alter table connector_jobs drop column order_id`.execute(db);
}
