import { createStatementBatcher } from '../db/statement-batcher.ts';
import type { UsersRepository } from '../repositories/users-repository.ts';

type TokenRow = Awaited<ReturnType<UsersRepository['findTokensByHashes']>>[number];
/** A token and its user, and the catalogue counter (repositories/catalog-cache.ts) as the lookup read it. */
export type TokenLookupAnswer = Omit<TokenRow, 'token_hash' | 'catalog_version'> & { catalogVersion: string | undefined };

/**
 * Bearer-token lookups of concurrent requests share one query (`token_hash in (…)`, see
 * db/statement-batcher.ts). Nothing is cached: a token revoked (or a user disabled or demoted) by a
 * committed change is refused from the very next request on, on every instance. The statement
 * also reads the catalogue counter, as of a moment after the request asked: the request's catalogue
 * lookups can use it as CatalogCache.get's `observed` instead of asking again.
 */
export function createTokenLookup(users: Pick<UsersRepository, 'findTokensByHashes'>, maxBatch = 500) {
  const find = createStatementBatcher(async (hashes: string[]) => {
    const rows = await users.findTokensByHashes([...new Set(hashes)]);
    const byHash = new Map(rows.map((r) => [r.token_hash, r]));
    return hashes.map((hash): TokenLookupAnswer | undefined => {
      const row = byHash.get(hash);
      // Each request gets its own copy: one caller cannot change what another reads.
      return row && {
        token_id: row.token_id, expires_at: row.expires_at, revoked_at: row.revoked_at, last_used_at: row.last_used_at, user_id: row.user_id,
        username: row.username, role: row.role, disabled: row.disabled, catalogVersion: row.catalog_version ?? undefined,
      };
    });
  }, maxBatch);
  return { find };
}
