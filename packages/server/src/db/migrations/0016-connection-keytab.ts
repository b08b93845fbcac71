import { sql, type Kysely } from 'kysely';

/**
 * Kerberos with a keytab per ADCS connection (issue 4 item 2): the keytab sealed like the password
 * (its own sealing context), the principal it was checked to hold (shown by the API instead of the
 * keytab), and the realm's KDCs when the connection must not depend on the host's krb5.conf (two
 * connections to two realms in one process). A keytab connection needs no password, so the
 * password becomes optional.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table connections add column keytab_sealed text, add column keytab_principal text, add column kerberos_kdcs jsonb`.execute(db);
  await sql`alter table connections alter column password_sealed drop not null`.execute(db);
  await sql`alter table connections add constraint connections_secret check (password_sealed is not null or keytab_sealed is not null)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table connections drop constraint connections_secret`.execute(db);
  await sql`update connections set password_sealed = '' where password_sealed is null`.execute(db);
  await sql`alter table connections alter column password_sealed set not null`.execute(db);
  await sql`alter table connections drop column keytab_sealed, drop column keytab_principal, drop column kerberos_kdcs`.execute(db);
}
