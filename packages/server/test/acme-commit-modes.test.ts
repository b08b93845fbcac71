/**
 * Which ACME writes wait for PostgreSQL's WAL flush (db/async-commit.ts). The steps a client
 * recovers from on its own if PostgreSQL crashes and loses them (nonces, a new order, challenge and
 * authorization states, finalize's claim) commit without waiting; whatever issues, revokes, or
 * creates or changes an account waits. A row trigger reads each writing transaction's
 * `synchronous_commit` inside it, for every step of one client's life.
 */
import { sql, type Kysely } from 'kysely';
import { buildCsr, generateKeyPair, parseDn, pemDecodeAll } from '@certbridge/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAcmeTestbed, type AcmeTestbed } from './acme-testbed.ts';
import { TestAcmeClient } from './acme-test-client.ts';
import { ENGINES } from './helpers.ts';

const TABLES = ['acme_nonces', 'acme_accounts', 'acme_orders', 'acme_authorizations', 'acme_challenges', 'certificates'];

describe.each(ENGINES)('ACME commit modes on %s', (engine) => {
  let bed: AcmeTestbed;
  let raw: Kysely<unknown>;

  beforeAll(async () => {
    bed = await startAcmeTestbed(engine);
    raw = bed.env.handle.db as unknown as Kysely<unknown>;
    await sql`create table test_commit_modes (seq serial primary key, tbl text, op text, status text, mode text)`.execute(raw);
    await sql`create function test_commit_mode() returns trigger language plpgsql as $$
      begin
        insert into test_commit_modes (tbl, op, status, mode) values (tg_table_name, tg_op,
          case when tg_op = 'DELETE' then to_jsonb(old) else to_jsonb(new) end ->> 'status', current_setting('synchronous_commit'));
        return null;
      end $$`.execute(raw);
    for (const table of TABLES) {
      await sql`create trigger test_commit_mode after insert or update or delete on ${sql.table(table)} for each row execute function test_commit_mode()`.execute(raw);
    }
  });
  afterAll(async () => {
    await bed?.close();
  });

  /** Runs one step; answers "table op status" → the commit modes its writes had (nonce refills apart). */
  async function modesOf(step: () => Promise<void>): Promise<Record<string, string>> {
    await sql`delete from test_commit_modes where not (tbl = 'acme_nonces' and op = 'INSERT')`.execute(raw);
    await step();
    const { rows } = await sql<{ tbl: string; op: string; status: string | null; mode: string }>`
      select distinct tbl, op, status, mode from test_commit_modes where not (tbl = 'acme_nonces' and op = 'INSERT') order by 1, 2, 3, 4`.execute(raw);
    const modes: Record<string, string> = {};
    for (const r of rows) {
      const key = [r.tbl, r.op, r.status].filter(Boolean).join(' ');
      modes[key] = modes[key] ? `${modes[key]},${r.mode}` : r.mode;
    }
    return modes;
  }

  it('ok/a client recovers what does not wait for the flush; issuance, revocation and account changes wait', async () => {
    const c = await TestAcmeClient.create(bed.app, 'https://certbridge.test', 'default-tls', 'ES256');
    const name = `flush-${engine}.acme.test`;

    // A new account waits (a client would otherwise hold a kid that is gone); its jwk-signed nonce goes with it.
    expect(await modesOf(async () => void expect((await c.register()).status).toBe(201)))
      .toEqual({ 'acme_accounts INSERT valid': 'on', 'acme_nonces DELETE': 'on' });

    let orderUrl = '';
    let order: { authorizations: string[]; finalize: string } = { authorizations: [], finalize: '' };
    expect(await modesOf(async () => {
      const res = await c.newOrder([{ type: 'dns', value: name }]);
      expect(res.status).toBe(201);
      orderUrl = String(res.headers['location']);
      order = res.json();
    })).toEqual({
      'acme_authorizations INSERT pending': 'off', 'acme_challenges INSERT pending': 'off', 'acme_nonces DELETE': 'off', 'acme_orders INSERT pending': 'off',
    });

    const validation = await modesOf(async () => {
      const authzUrl = order.authorizations[0]!;
      const authz = (await c.post(authzUrl, null)).json<{ challenges: { type: string; url: string; token: string }[] }>();
      const ch = authz.challenges.find((x) => x.type === 'http-01')!;
      bed.tokens.set(ch.token, `${ch.token}.${await c.thumbprint()}`);
      expect((await c.post(ch.url, {})).status).toBe(200);
      expect((await c.pollUntil(authzUrl, ['pending']))['status']).toBe('valid');
      expect((await c.pollUntil(orderUrl, ['pending']))['status']).toBe('ready');
    });
    // The challenge may be settled straight from pending or through a claim (`processing`): both without the flush.
    expect(Object.entries(validation).filter(([, mode]) => mode !== 'off')).toEqual([]);
    expect(Object.keys(validation)).toEqual(expect.arrayContaining([
      'acme_authorizations UPDATE valid', 'acme_challenges UPDATE valid', 'acme_nonces DELETE', 'acme_orders UPDATE ready',
    ]));

    let der: Uint8Array = new Uint8Array();
    expect(await modesOf(async () => {
      const pair = generateKeyPair('EC-P256');
      const csr = buildCsr({ subject: parseDn(`CN=${name}`), sans: [{ type: 'dns', value: name }], privateKey: pair.privateKey, publicKey: pair.publicKey });
      expect((await c.post(order.finalize, { csr: Buffer.from(csr).toString('base64url') })).status).toBe(200);
      const done = await c.pollUntil(orderUrl, ['processing']);
      expect(done['status']).toBe('valid');
      der = pemDecodeAll((await c.post(String(done['certificate']), null)).body)[0]!;
    })).toEqual({
      // Finalize's claim does not wait; the issuance that stores the certificate and moves the order to valid does.
      'acme_nonces DELETE': 'off', 'acme_orders UPDATE processing': 'off', 'acme_orders UPDATE valid': 'on', 'certificates INSERT active': 'on',
    });

    expect(await modesOf(async () => {
      expect((await c.post(`${c.base}/revoke-cert`, { certificate: Buffer.from(der).toString('base64url'), reason: 4 })).status).toBe(200);
    })).toEqual({ 'acme_nonces DELETE': 'off', 'certificates UPDATE revoked': 'on' });

    expect(await modesOf(async () => {
      const newKey = await TestAcmeClient.newKey('ES256');
      const url = `${c.base}/key-change`;
      const inner = JSON.parse(await c.sign(url, { account: c.kid, oldKey: c.key.jwk }, { nonce: null, useJwk: true }, newKey));
      expect((await c.post(url, inner)).status).toBe(200);
      c.key = newKey;
    })).toEqual({ 'acme_accounts UPDATE valid': 'on', 'acme_nonces DELETE': 'off' });

    // Nonce batches never wait (the first batch was stored during this test, after the trigger).
    const refills = await sql<{ mode: string }>`select distinct mode from test_commit_modes where tbl = 'acme_nonces' and op = 'INSERT'`.execute(raw);
    expect(refills.rows.map((r) => r.mode)).toEqual(['off']);
    // The setting lasted one transaction: the pool's connections keep the server's.
    const after = await Promise.all(Array.from({ length: 4 }, () => sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(raw)));
    expect(after.map((r) => r.rows[0]?.synchronous_commit)).toEqual(['on', 'on', 'on', 'on']);
  });
});
