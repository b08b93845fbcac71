import { CompiledQuery, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { createStatementBatcher } from '../db/statement-batcher.ts';

/**
 * Read cache for the issuance catalogue (applications, profiles, policies, CAs, application↔profile
 * links, memberships), correct across server instances.
 *
 * Migration 0010 keeps one counter, `cache_versions.catalog`, that a statement trigger on each of
 * those tables increments in the changing transaction, so the new value becomes visible exactly
 * when the change does. Every cached read first asks for the counter, with a query that starts
 * AFTER the read was requested (concurrent readers share it: one round trip per batch of
 * readers, a primary-key lookup), and uses the cache only when the counter is the one the cache was
 * filled under; otherwise the cache is emptied. So a reader never sees a catalogue older than the
 * last change committed before it asked, on any instance, and there is no staleness window.
 */
/** A deployment has a few hundred catalogue rows; far more keys means lookups of names that do not exist. */
const MAX_ENTRIES = 10_000;
const VERSION_QUERY = CompiledQuery.raw(`select version::text as version from cache_versions where name = 'catalog'`);

export function createCatalogCache(db: Kysely<Database>) {
  let version: string | null = null;
  let entries = new Map<string, Promise<unknown>>();

  /** The counter as of a moment after the call: concurrent readers share one query (db/statement-batcher.ts). */
  const readVersion = createStatementBatcher(async (callers: null[]) => {
    const row = await db.executeQuery<{ version: string }>(VERSION_QUERY);
    const v = row.rows[0]?.version;
    if (v === undefined) throw new Error('cache_versions has no catalog row (migration 0010 not applied)');
    return callers.map(() => v);
  }, Number.MAX_SAFE_INTEGER);
  const currentVersion = () => readVersion(null);

  return {
    /**
     * The counter as of a moment after the call (concurrent callers share one query). A request
     * that passes it as `observed` to each of its later gets pays one version check in all: its
     * lookups then see the catalogue as of that moment, which is no older than the request.
     */
    version: currentVersion,
    /**
     * `load()`'s result for `key`, from the cache when the catalogue has not changed since it was
     * loaded. Loads run after the counter was read, so a cached value is never older than its
     * counter; a load begun under an older counter is not kept. `observed` is the counter as read
     * by another statement that started after this read was asked (a hot lookup that selects it
     * too), which spares the version query.
     */
    async get<T>(key: string, load: () => Promise<T>, observed?: string): Promise<T> {
      const v = observed ?? await currentVersion();
      if (v !== version) {
        // Versions only grow, but a reader holding an older answer than the cache must not reset it.
        if (version === null || BigInt(v) > BigInt(version)) {
          version = v;
          entries = new Map();
        } else if (BigInt(v) < BigInt(version)) {
          return load();
        }
      }
      let hit = entries.get(key) as Promise<T> | undefined;
      if (!hit) {
        // Misses are cached too (an unknown name stays unknown until the catalogue changes), so
        // requests naming random ids could grow the map without end: start over past a bound.
        if (entries.size >= MAX_ENTRIES) entries = new Map();
        const map = entries;
        hit = load();
        map.set(key, hit);
        // A failed load is not remembered: the next reader tries again.
        hit.catch(() => map.get(key) === hit && map.delete(key));
      }
      return hit;
    },
  };
}

export type CatalogCache = ReturnType<typeof createCatalogCache>;

/**
 * A row read through the cache (or straight from `load` without one), copied so a caller changing
 * it cannot change what others read; `observed` as in `CatalogCache.get`.
 */
export async function cachedRow<T extends object>(cache: CatalogCache | undefined, key: string, load: () => Promise<T | undefined>, observed?: string): Promise<T | undefined> {
  if (!cache) return load();
  const row = await cache.get(key, load, observed);
  return row && { ...row };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * `parse` remembered per input object. This cache hands out the same stored JSON objects (policy
 * `rules`, profile `defaults`, CA `settings`) until the catalogue changes, so an issuance no longer
 * re-validates them through zod (~20 µs each). The result is shared between callers, hence frozen;
 * a value that is not an object (null: the schema's defaults) is parsed each time.
 */
export function parsedOncePerObject<T>(parse: (value: unknown) => T): (value: unknown) => T {
  const parsed = new WeakMap<object, T>();
  return (value) => {
    if (typeof value !== 'object' || value === null) return deepFreeze(parse(value));
    let result = parsed.get(value);
    if (result === undefined) {
      result = deepFreeze(parse(value));
      parsed.set(value, result);
    }
    return result;
  };
}
