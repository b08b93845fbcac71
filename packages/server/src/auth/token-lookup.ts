import type { UsersRepository } from '../repositories/users-repository.ts';

type TokenRow = NonNullable<Awaited<ReturnType<UsersRepository['findTokenByHash']>>>;
type Waiter = { resolve: (row: TokenRow | undefined) => void; reject: (err: unknown) => void };

/**
 * Bearer-token lookups of concurrent requests share one query (`token_hash in (…)`): the first
 * caller schedules a query for the end of this event-loop turn, callers arriving until it starts
 * join it, callers arriving while it runs wait for the next one. Nothing is cached: every answer comes from a query that started after the request
 * asked, so a token revoked (or a user disabled or demoted) by a committed change is refused from
 * the very next request on, on every instance.
 */
export function createTokenLookup(users: Pick<UsersRepository, 'findTokensByHashes'>, maxBatch = 500) {
  let waiting = new Map<string, Waiter[]>();
  let inFlight = false;

  async function run(): Promise<void> {
    const batch = new Map<string, Waiter[]>();
    for (const [hash, waiters] of waiting) {
      if (batch.size >= maxBatch) break;
      batch.set(hash, waiters);
    }
    for (const hash of batch.keys()) waiting.delete(hash);
    try {
      const rows = await users.findTokensByHashes([...batch.keys()]);
      const byHash = new Map(rows.map((r) => [r.token_hash, r]));
      for (const [hash, waiters] of batch) {
        const row = byHash.get(hash);
        const found = row ? { token_id: row.token_id, expires_at: row.expires_at, revoked_at: row.revoked_at, last_used_at: row.last_used_at, user_id: row.user_id, username: row.username, role: row.role, disabled: row.disabled } : undefined;
        // Each request gets its own copy: one caller cannot change what another reads.
        for (const w of waiters) w.resolve(found && { ...found });
      }
    } catch (err) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
    } finally {
      inFlight = false;
      if (waiting.size > 0) start();
    }
  }

  // From setImmediate: the requests whose handlers run in this turn of the event loop share the query.
  function start(): void {
    inFlight = true;
    setImmediate(() => void run());
  }

  return {
    find(hash: string): Promise<TokenRow | undefined> {
      return new Promise<TokenRow | undefined>((resolve, reject) => {
        const list = waiting.get(hash) ?? [];
        if (list.length === 0) waiting.set(hash, list);
        list.push({ resolve, reject });
        if (!inFlight) start();
      });
    },
  };
}
