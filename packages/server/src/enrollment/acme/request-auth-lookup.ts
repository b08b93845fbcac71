import { createStatementBatcher } from '../../db/statement-batcher.ts';
import type { AcmeRepository } from './acme-repository.ts';
import type { ResourceRead } from './resource-reads.ts';

/**
 * The nonce, account and catalogue counter (for the directory lookup, catalog-cache.ts) of
 * concurrent kid-signed ACME requests in one statement: a request costs one database round trip
 * before its handler even starts, so under load the round trips, not the
 * rows, are what limit a directory (db/statement-batcher.ts). Each answer comes from a statement
 * that started after the request asked, so a nonce stays single use and a deactivated account is
 * refused at once, on every instance.
 */
export function createRequestAuthLookup(repo: Pick<AcmeRepository, 'consumeNoncesAndFindAccounts'>, maxBatch = 200) {
  const consume = createStatementBatcher(async (entries: { nonce: string; accountId: string; now: Date; read: ResourceRead | undefined }[]) => {
    // The latest `now` of the batch: a nonce that expired before any caller's moment is refused.
    const now = new Date(Math.max(...entries.map((e) => e.now.getTime())));
    return repo.consumeNoncesAndFindAccounts(entries, now);
  }, maxBatch);
  return {
    /** Consumes `nonce` and reads account `accountId` (a UUID), and the resource `read` names, as of a moment after this call. */
    consume: (nonce: string, accountId: string, now: Date, read?: ResourceRead) => consume({ nonce, accountId, now, read }),
  };
}

export type RequestAuthLookup = ReturnType<typeof createRequestAuthLookup>;
