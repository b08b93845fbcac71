import { PGlite, parse, protocol } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteStatements, type PgliteRun } from './pglite-statements.ts';
import { PreparedStatementNames } from './prepared-statements.ts';

/** Named prepared statements on the embedded database (pglite-statements.ts), against PGlite itself. */
describe('prepared statements on PGlite', () => {
  let pglite: PGlite;
  let run: PgliteRun;
  const preparedHere = async () => (await pglite.query<{ name: string; statement: string }>(`select name, statement from pg_prepared_statements where name like 'cb_%'`)).rows;

  beforeAll(async () => {
    pglite = await PGlite.create();
    run = createPgliteStatements(pglite, { protocol, parse }, new PreparedStatementNames());
    await pglite.exec(`create table items (id uuid primary key, name text not null unique, tags text[] not null, meta jsonb, raw bytea, n int, ok boolean, at timestamptz)`);
  });
  afterAll(() => pglite.close());

  const INSERT = `insert into items (id, name, tags, meta, raw, n, ok, at) values ($1, $2, $3::text[], $4::jsonb, $5, $6, $7, $8) returning *`;
  const row = (i: number) => [
    `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, `item ${i}`, [`t${i}`, 'x,y', 'with "quotes"'], JSON.stringify({ i, nested: { a: [1, 2] } }),
    new Uint8Array([0, i, 255]), i, i % 2 === 0, new Date(Date.UTC(2026, 10, 23, 5, i)),
  ];

  it('ok/a text is prepared from its third use on and answers what query answers, every type read back', async () => {
    const SELECT = `select * from items where name = $1 and n >= $2`;
    for (let i = 1; i <= 5; i++) {
      const inserted = await run<Record<string, unknown>>(INSERT, row(i));
      expect(inserted.affectedRows).toBe(1);
      expect(inserted.rows[0]).toEqual({
        id: row(i)[0], name: `item ${i}`, tags: [`t${i}`, 'x,y', 'with "quotes"'], meta: { i, nested: { a: [1, 2] } },
        raw: new Uint8Array([0, i, 255]), n: i, ok: i % 2 === 0, at: new Date(Date.UTC(2026, 10, 23, 5, i)),
      });
      expect(await run(SELECT, [`item ${i}`, 0])).toEqual(await pglite.query(SELECT, [`item ${i}`, 0]));
    }
    // Named on the third use: both texts, nothing else.
    expect((await preparedHere()).map((p) => p.statement).sort()).toEqual([INSERT, SELECT].sort());
  });

  it('ok/nulls, an empty result and an update count come back as query gives them', async () => {
    const UPDATE = `update items set meta = $1::jsonb, raw = $2 where n > $3`;
    for (let use = 0; use < 4; use++) {
      const updated = await run(UPDATE, [null, undefined, 3]);
      expect(updated.affectedRows).toBe(2);
      expect(updated.rows).toEqual([]);
    }
    const NONE = `select id from items where n = $1`;
    for (let use = 0; use < 4; use++) expect((await run(NONE, [99])).rows).toEqual([]);
    expect((await run(`select meta, raw from items where n = $1`, [4])).rows).toEqual([{ meta: null, raw: null }]);
  });

  it('fail/an error in a prepared statement is the database error, and the session goes on (also inside a transaction)', async () => {
    for (let use = 0; use < 3; use++) await run(INSERT, row(10 + use));
    // The duplicate name: 23505 with the constraint, as query reports it.
    await expect(run(INSERT, [...row(20)].map((v, i) => (i === 1 ? 'item 10' : v)))).rejects.toMatchObject({ code: '23505', constraint: 'items_name_key' });
    expect((await run(`select count(*)::int as n from items where n >= $1`, [10])).rows).toEqual([{ n: 3 }]);
    // A value the parameter's type refuses fails at Bind, before the statement runs: 22P02, and the session goes on.
    const BY_ID = `select name from items where id = $1`;
    for (let use = 0; use < 3; use++) await run(BY_ID, [row(10)[0]]);
    await expect(run(BY_ID, ['not-a-uuid'])).rejects.toMatchObject({ code: '22P02' });
    expect((await run(BY_ID, [row(10)[0]])).rows).toEqual([{ name: 'item 10' }]);
    await pglite.query('begin');
    await run(INSERT, row(21));
    await expect(run(INSERT, row(21))).rejects.toMatchObject({ code: '23505' });
    await pglite.query('rollback');
    expect((await pglite.query(`select count(*)::int as n from items where n = 21`)).rows).toEqual([{ n: 0 }]);
    expect((await run(`select count(*)::int as n from items where n >= $1`, [10])).rows).toEqual([{ n: 3 }]);
  });

  it('fail/a text PostgreSQL cannot parse fails with its syntax error every time and leaves nothing prepared', async () => {
    const BAD = `selec id from items where n = $1`;
    for (let use = 0; use < 4; use++) await expect(run(BAD, [1])).rejects.toMatchObject({ code: '42601' });
    expect((await preparedHere()).some((p) => p.statement === BAD)).toBe(false);
    expect((await run(`select count(*)::int as n from items where n >= $1`, [0])).rows[0]).toEqual({ n: 8 });
  });

  it('ok/switched off (CERTBRIDGE_PG_PREPARED_STATEMENTS=off), every statement goes through query and nothing is prepared', async () => {
    const unnamed = createPgliteStatements(pglite, { protocol, parse }, undefined);
    const COUNT = `select count(*)::int as n from items where n >= $1 and ok = $2`;
    for (let use = 0; use < 5; use++) expect((await unnamed(COUNT, [0, true])).rows).toEqual([{ n: 4 }]);
    expect((await preparedHere()).some((p) => p.statement === COUNT)).toBe(false);
  });

  it('fail/a table changed under a prepared select fails that call once, then the text runs unnamed', async () => {
    const ALL = `select * from items where n = $1`;
    for (let use = 0; use < 3; use++) await run(ALL, [1]);
    await pglite.exec(`alter table items add column note text default 'added'`);
    await expect(run(ALL, [1])).rejects.toMatchObject({ code: '0A000' });
    expect((await run<{ note: string }>(ALL, [1])).rows[0]?.note).toBe('added');
  });
});
