import { sql, type Kysely } from 'kysely';

/**
 * An ACME order being finalized follows the issuance order it was finalized into, in the same
 * transaction as the issuance order's change:
 * - finalize claims the ACME order (ready → processing) with `issuance_order_id` already set to the
 *   id the issuance core will give its order (acme-orders.ts), so the link exists before the CA is
 *   asked. The foreign key goes: the row it names is written later, in another transaction (and
 *   never, when finalize dies before the CA is asked; orders are never deleted).
 * - a trigger on `orders` moves a `processing` ACME order to `valid` (with the certificate) or
 *   `invalid` (with the reason) when its issuance order leaves `pending`: whether finalize's own
 *   write does that, the background poll of an ADCS request waiting for approval, or the sweep of
 *   stranded orders. Before, finalize wrote the outcome in a statement of its own after the
 *   issuance had committed (a crash in between left the ACME order `processing` for good), and an
 *   order approved at ADCS turned `valid` only when a client's poll wrote it.
 * The problem documents are the ones the ACME module renders (acme-orders.ts `followIssuance`,
 * which computes the same row in memory; acme-adcs.test.ts holds them equal).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table acme_orders drop constraint if exists acme_orders_issuance_order_id_fkey`.execute(db);
  await sql`create index acme_orders_issuance_order on acme_orders (issuance_order_id) where status = 'processing'`.execute(db);
  await sql`
    create function certbridge_acme_order_follows_issuance() returns trigger language plpgsql as $$
    begin
      update acme_orders set
        status = case when new.status = 'issued' then 'valid' else 'invalid' end,
        certificate_id = case when new.status = 'issued' then new.certificate_id else certificate_id end,
        error = case when new.status = 'issued' then null else jsonb_build_object(
          'type', 'urn:ietf:params:acme:error:unauthorized',
          'detail', case when new.status = 'denied' then 'the CA denied the request: ' || coalesce(new.disposition, 'no reason given')
            else 'the CA did not issue: ' || coalesce(new.error->>'message', new.disposition, new.status) end,
          'status', 403) end,
        updated_at = now()
      where issuance_order_id = new.id and status = 'processing';
      return null;
    end $$`.execute(db);
  await sql`
    create trigger orders_acme_order_follows after insert or update of status on orders
    for each row when (new.protocol = 'acme' and new.status <> 'pending')
    execute function certbridge_acme_order_follows_issuance()`.execute(db);
  // ACME orders whose issuance order was settled before this migration (they waited for a client's poll).
  await sql`update orders set status = status where protocol = 'acme' and status <> 'pending'
    and id in (select issuance_order_id from acme_orders where status = 'processing')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger if exists orders_acme_order_follows on orders`.execute(db);
  await sql`drop function if exists certbridge_acme_order_follows_issuance()`.execute(db);
  await sql`drop index if exists acme_orders_issuance_order`.execute(db);
  await sql`update acme_orders set issuance_order_id = null where issuance_order_id is not null and issuance_order_id not in (select id from orders)`.execute(db);
  await sql`alter table acme_orders add constraint acme_orders_issuance_order_id_fkey foreign key (issuance_order_id) references orders(id)`.execute(db);
}
