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

  it('CERTBRIDGE_PGLITE_SHARED_BUFFERS defaults to 16MB and must be a size', () => {
    expect(loadConfig({}).pgliteSharedBuffers).toBe('16MB');
    expect(loadConfig({ CERTBRIDGE_PGLITE_SHARED_BUFFERS: '64MB' }).pgliteSharedBuffers).toBe('64MB');
    for (const bad of ['16', '0MB', '16 MB', '-1MB', '16MB; drop table x']) {
      expect(() => loadConfig({ CERTBRIDGE_PGLITE_SHARED_BUFFERS: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ CERTBRIDGE_PGLITE_SHARED_BUFFERS: bad })).toThrow(/CERTBRIDGE_PGLITE_SHARED_BUFFERS: must be a size such as 16MB/);
    }
  });
});
