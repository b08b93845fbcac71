import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.ts';
import { freshDatabase } from '../../test/helpers.ts';
import type { DatabaseHandle } from './database.ts';
import { PreparedStatementNames } from './prepared-statements.ts';

describe('which statements are prepared', () => {
  it('ok/a text is named from its third use on, always under the same name', () => {
    const names = new PreparedStatementNames();
    const text = 'select * from orders where id = $1';
    expect(names.nameFor(text)).toBeUndefined();
    expect(names.nameFor(text)).toBeUndefined();
    const name = names.nameFor(text);
    expect(name).toMatch(/^cb_[0-9a-f]{24}$/);
    expect(names.nameFor(text)).toBe(name);
  });

  it('ok/texts seen once or twice (migrations, one-off lists) are never named', () => {
    const names = new PreparedStatementNames();
    for (let i = 0; i < 1000; i++) {
      expect(names.nameFor(`select * from t where id in (${Array.from({ length: i + 1 }, (_, k) => `$${k + 1}`).join(', ')})`)).toBeUndefined();
    }
    expect(names.preparedCount).toBe(0);
  });

  it('ok/a text of several statements is never named (the extended protocol runs one statement)', () => {
    const names = new PreparedStatementNames();
    for (let use = 0; use < 5; use++) expect(names.nameFor('create table a (x int); create table b (y int)')).toBeUndefined();
    for (let use = 0; use < 2; use++) names.nameFor('select 1;');
    expect(names.nameFor('select 1;')).toMatch(/^cb_/);
  });

  it('ok/at most 300 names per process, then texts stay unnamed', () => {
    const names = new PreparedStatementNames();
    for (let i = 0; i < 400; i++) for (let use = 0; use < 3; use++) names.nameFor(`select ${i}`);
    expect(names.preparedCount).toBe(300);
    expect(names.nameFor('select 399')).toBeUndefined();
    expect(names.nameFor('select 0')).toMatch(/^cb_/);
  });

  it('ok/a retired text is sent unnamed from then on', () => {
    const names = new PreparedStatementNames();
    for (let use = 0; use < 3; use++) names.nameFor('select 1');
    names.retire('select 1');
    expect(names.nameFor('select 1')).toBeUndefined();
    expect(names.preparedCount).toBe(0);
  });

  it('ok/the switch CERTBRIDGE_PG_PREPARED_STATEMENTS defaults to on and takes off', () => {
    expect(loadConfig({}).pgPreparedStatements).toBe(true);
    expect(loadConfig({ CERTBRIDGE_PG_PREPARED_STATEMENTS: 'off' }).pgPreparedStatements).toBe(false);
    expect(() => loadConfig({ CERTBRIDGE_PG_PREPARED_STATEMENTS: 'yes' })).toThrow(/CERTBRIDGE_PG_PREPARED_STATEMENTS/);
  });
});

const PG = process.env['TEST_DATABASE_URL'];

describe.skipIf(!PG)('prepared statements on PostgreSQL', () => {
  /** A fresh PostgreSQL database, open with `options`, dropped afterwards. */
  async function withDatabase(options: { preparedStatements?: boolean }, run: (handle: DatabaseHandle) => Promise<void>) {
    const fresh = await freshDatabase('postgres', options);
    try {
      await run(fresh.handle);
    } finally {
      await fresh.drop();
    }
  }

  /** Names PostgreSQL holds prepared for the session that runs this. */
  const preparedHere = sql<{ name: string }>`select name from pg_prepared_statements where name like 'cb_%'`;

  it('ok/a hot statement runs as a named statement with the right rows each time; a one-off one does not', async () => {
    await withDatabase({}, async (handle) => {
      await sql`create table items (id int primary key, label text)`.execute(handle.db);
      await sql`insert into items values (1, 'one'), (2, 'two')`.execute(handle.db);
      // One connection, so the session that prepares is the session asked.
      await handle.db.connection().execute(async (conn) => {
        for (const id of [1, 2, 1, 2, 1]) {
          const row = await conn.selectFrom('items' as never).select(['label' as never]).where('id' as never, '=', id as never).executeTakeFirst();
          expect(row).toEqual({ label: id === 1 ? 'one' : 'two' });
        }
        const prepared = (await preparedHere.execute(conn)).rows;
        expect(prepared).toHaveLength(1);
      });
    });
  });

  it('ok/a wrapper put on pg.Client.prototype.query after the connection opened sees its calls, named ones included', async () => {
    await withDatabase({}, async (handle) => {
      const original = pg.Client.prototype.query;
      try {
        await handle.db.connection().execute(async (conn) => {
          await sql`select 1`.execute(conn); // the connection is open and set up before the wrapper
          let seen = 0;
          pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
            seen++;
            return (original as (...a: unknown[]) => unknown).apply(this, args);
          } as typeof original;
          for (let i = 0; i < 4; i++) await sql`select ${i}::int as n`.execute(conn);
          expect(seen).toBe(4);
          expect((await preparedHere.execute(conn)).rows).toHaveLength(1);
        });
      } finally {
        pg.Client.prototype.query = original;
      }
    });
  });

  it('ok/switched off, nothing is prepared', async () => {
    await withDatabase({ preparedStatements: false }, async (handle) => {
      await handle.db.connection().execute(async (conn) => {
        for (let i = 0; i < 5; i++) await sql`select ${i}::int as n`.execute(conn);
        expect((await preparedHere.execute(conn)).rows).toEqual([]);
      });
    });
  });

  it('fail/a table changed under a prepared select fails that call once, then the text runs unnamed', async () => {
    await withDatabase({}, async (handle) => {
      await sql`create table items (id int primary key, label text)`.execute(handle.db);
      await sql`insert into items values (1, 'one')`.execute(handle.db);
      await handle.db.connection().execute(async (conn) => {
        const read = () => sql<Record<string, unknown>>`select * from items where id = ${1}`.execute(conn);
        for (let i = 0; i < 3; i++) await read();
        await sql`alter table items add column note text`.execute(conn);
        await expect(read()).rejects.toThrow(/cached plan must not change result type/);
        expect((await read()).rows).toEqual([{ id: 1, label: 'one', note: null }]);
      });
    });
  });
});
