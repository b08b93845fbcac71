import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../config/config.ts';
import { openDatabase, PGLITE_SHARED_BUFFERS } from './database.ts';

describe('embedded PGlite settings', () => {
  it('runs with the small default buffer pool, or the configured one', async () => {
    for (const [target, expected] of [[{ memory: true } as const, PGLITE_SHARED_BUFFERS], [{ memory: true, sharedBuffers: '24MB' } as const, '24MB']] as const) {
      const handle = await openDatabase(target);
      try {
        const { rows } = await sql<{ shared_buffers: string }>`show shared_buffers`.execute(handle.db);
        expect(rows[0]?.shared_buffers).toBe(expected);
      } finally {
        await handle.close();
      }
    }
  });

  it('ok/a new data directory is created (in a child process) and opened again with its data', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-db-'));
    try {
      const first = await openDatabase({ dataDir });
      await sql`create table kept (v text)`.execute(first.db);
      await sql`insert into kept values ('still here')`.execute(first.db);
      await first.close();
      const again = await openDatabase({ dataDir });
      try {
        expect((await sql<{ v: string }>`select v from kept`.execute(again.db)).rows).toEqual([{ v: 'still here' }]);
      } finally {
        await again.close();
      }
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });

  it('fail/a buffer pool PostgreSQL refuses stops the first start with one clear error', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'certbridge-db-'));
    try {
      await expect(openDatabase({ dataDir, sharedBuffers: '1kB' })).rejects.toThrow(/^creating the embedded database in .*pgdata failed \(exit 1\): PGlite failed to initialize/);
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });

  it('ok/a pg-boss write after the database closed (a job ending during shutdown) is left unanswered, not a rejection', async () => {
    const handle = await openDatabase({ memory: true });
    if (!('db' in handle.boss)) throw new Error('PGlite hands pg-boss a db adapter');
    const adapter = handle.boss.db;
    expect((await adapter.executeSql('select $1::int as n', [7])).rows).toEqual([{ n: 7 }]);
    await handle.close();
    const late = adapter.executeSql('update nothing set x = $1', [1]).then(() => 'answered', () => 'rejected');
    expect(await Promise.race([late, new Promise((resolve) => setTimeout(resolve, 200, 'unanswered'))])).toBe('unanswered');
    await expect(sql`select 1`.execute(handle.db)).rejects.toThrow();
  });

  it('CERTBRIDGE_PGLITE_SHARED_BUFFERS defaults to 16MB and must be a size', () => {
    expect(loadConfig({}).pgliteSharedBuffers).toBe('16MB');
    expect(loadConfig({ CERTBRIDGE_PGLITE_SHARED_BUFFERS: '64MB' }).pgliteSharedBuffers).toBe('64MB');
    for (const bad of ['16', '0MB', '16 MB', '-1MB', '16MB; drop table x']) {
      expect(() => loadConfig({ CERTBRIDGE_PGLITE_SHARED_BUFFERS: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ CERTBRIDGE_PGLITE_SHARED_BUFFERS: bad })).toThrow(/CERTBRIDGE_PGLITE_SHARED_BUFFERS: must be a size such as 16MB/);
    }
  });
});
