import { performance } from 'node:perf_hooks';
import type { Kysely } from 'kysely';
import { isAdcsError, type AdcsClient } from '@certbridge/adcs-client';
import type { Clock } from '../../clock.ts';
import type { Sealer } from '../../crypto/sealer.ts';
import type { CaRow, ConnectionRow, Database } from '../../db/schema.ts';
import type { RecordOrder } from '../types.ts';
import { CLOSED, createBreakers, DEFAULT_BREAKER, type BreakerOptions, type BreakerRow } from './circuit-breaker.ts';
import { createClientPool } from './client-pool.ts';
import { answerWasLost, requesterAccount, toAppError, type ServerFailure } from './adcs-errors.ts';
import { QUICK_RETRY_DELAYS_MS, realSleep, type Sleep } from './pending-schedule.ts';
import { createRateLimiter } from './rate-limiter.ts';

/** How long a CA's server list may be reused before it is read again. */
export const SERVER_LIST_TTL_MS = 1_000;

export interface AdcsServer {
  connection: ConnectionRow;
  priority: number;
  maxRequestsPerSecond: number;
  /** Its circuit as the database held it when the list was read. */
  breaker: BreakerRow;
}

export interface AdcsRuntimeOptions {
  db: Kysely<Database>;
  sealer: Sealer;
  clock: Clock;
  /** Waiting between quick pending retries and for the rate cap (tests inject an instant one). */
  sleep?: Sleep;
  quickRetryDelaysMs?: readonly number[];
  breaker?: BreakerOptions;
}

/**
 * The long-lived part of the ADCS backend, shared by every request in the process: one pooled
 * AdcsClient per connection, and the failover loop. The circuit breaker and the rate cap of each
 * server live in the database (adcs_server_state), so every server instance on it agrees on them.
 * Backend instances (one per call of the registry factory) are cheap views over it.
 */
export function createAdcsRuntime(options: AdcsRuntimeOptions) {
  const { db, clock } = options;
  const sleep = options.sleep ?? realSleep;
  // Each CA's server list (with circuit state), read at most once per SERVER_LIST_TTL_MS: it is
  // one database round trip per issuance otherwise. Local changes (connection edited, servers
  // replaced, a circuit this process opened or closed) drop it at once; another instance's
  // changes show within the TTL.
  const serverLists = new Map<string, { at: number; list: Promise<AdcsServer[]>; ready?: AdcsServer[] }>();
  const invalidate = (): void => serverLists.clear();
  const pool = createClientPool(options.sealer, invalidate);
  const breakers = createBreakers(db, clock, options.breaker ?? DEFAULT_BREAKER);
  // Real time always: an instant test sleeper would turn the token wait into a busy loop.
  const limiter = createRateLimiter(db, realSleep);

  /** The servers of a CA, first priority first (from the short-lived cache). */
  function servers(caId: string): Promise<AdcsServer[]> {
    const hit = serverLists.get(caId);
    if (hit && performance.now() - hit.at < SERVER_LIST_TTL_MS) return hit.list;
    const list = readServers(caId);
    const entry: { at: number; list: Promise<AdcsServer[]>; ready?: AdcsServer[] } = { at: performance.now(), list };
    serverLists.set(caId, entry);
    list.then((ready) => { entry.ready = ready; }, () => { if (serverLists.get(caId) === entry) serverLists.delete(caId); });
    return list;
  }

  /** The cached server list when it has been read already (nothing to wait for), else undefined. */
  function knownServers(caId: string): AdcsServer[] | undefined {
    const hit = serverLists.get(caId);
    return hit && performance.now() - hit.at < SERVER_LIST_TTL_MS ? hit.ready : undefined;
  }

  /**
   * Starts the order's write for `withFailover`. When the CA's first server is known at once
   * (cached list), its circuit is closed and no caller of this process queues for its token, the
   * token is taken inside that write (one round trip fewer); otherwise the write goes alone and
   * the token is taken as usual, overlapping it.
   */
  function startRecording(caId: string, record: RecordOrder, only: string | undefined): { recorded: Promise<unknown>; token?: { server: string; turn: Promise<void> } } {
    const head = only === undefined ? knownServers(caId)?.[0] : undefined;
    if (!head || head.breaker.opened_at !== null || !limiter.idle(head.connection.id)) return { recorded: record() };
    const server = head.connection.id;
    const recorded = record(limiter.takeStatement(server, head.maxRequestsPerSecond));
    const turn = limiter.acquire(server, head.maxRequestsPerSecond, recorded.then((r) => r.alongsideRows > 0));
    // Awaited when that server is tried; a list changed meanwhile may never try it.
    turn.catch(() => undefined);
    return { recorded, token: { server, turn } };
  }

  async function readServers(caId: string): Promise<AdcsServer[]> {
    const rows = await db.selectFrom('ca_servers').innerJoin('connections', 'connections.id', 'ca_servers.connection_id')
      .leftJoin('adcs_server_state as st', 'st.connection_id', 'ca_servers.connection_id')
      .selectAll('connections').select(['ca_servers.priority', 'ca_servers.max_requests_per_second', 'st.failures', 'st.opened_at', 'st.trial_at'])
      .where('ca_servers.ca_id', '=', caId).orderBy('ca_servers.priority').orderBy('connections.name').execute();
    return rows.map(({ priority, max_requests_per_second, failures, opened_at, trial_at, ...connection }) => ({
      connection, priority, maxRequestsPerSecond: max_requests_per_second, breaker: failures === null ? CLOSED : { failures, opened_at, trial_at },
    }));
  }

  /**
   * Runs `op` on the CA's servers in priority order: a retryable failure (network, 5xx, timeout,
   * TLS of that server) moves on to the next server; anything else (bad credentials, a page we
   * cannot read) stops at once. A denial is a result, never an error, so it never fails over.
   * `only` pins the call to one server (a pending request lives on the server that took it).
   * `record`, when given, writes the order: called at once, and awaited before `op` first runs
   * (see CaBackend.issueWhileRecording). `lostAnswers`: the servers tried before that sent no
   * answer after getting the request (AdcsError.answerLost), which may hold it all the same.
   */
  async function withFailover<T>(ca: CaRow, op: (client: AdcsClient, connection: ConnectionRow) => Promise<T>, only?: string, record?: RecordOrder): Promise<{ value: T; connection: ConnectionRow; lostAnswers: ServerFailure[] }> {
    const recording = record && startRecording(ca.id, record, only);
    let token = recording?.token;
    let list = await servers(ca.id);
    if (only) {
      list = list.filter((s) => s.connection.id === only);
      if (list.length === 0) {
        const connection = await db.selectFrom('connections').selectAll().where('id', '=', only).executeTakeFirst();
        if (connection) list = [{ connection, priority: 1, maxRequestsPerSecond: 20, breaker: CLOSED }];
      }
    }
    const failures: ServerFailure[] = [];
    for (const server of list) {
      const { connection } = server;
      const id = connection.id;
      if (server.breaker.opened_at !== null) invalidate();
      if (!(await breakers.allow(id, server.breaker))) {
        failures.push({ server: connection.name, connectionId: id, error: new Error(`${connection.name} is skipped: its circuit is open after repeated failures`) });
        continue;
      }
      if (token?.server === id) {
        await token.turn;
        token = undefined;
      } else {
        await limiter.acquire(id, server.maxRequestsPerSecond);
      }
      // The server and the token were got while the order was being written; the CA hears of it only after that commit.
      if (recording) await recording.recorded;
      try {
        const value = await op(pool.client(connection), connection);
        if (server.breaker.failures > 0 || server.breaker.opened_at !== null) invalidate();
        await breakers.success(id, server.breaker);
        return { value, connection, lostAnswers: failures.filter(answerWasLost) };
      } catch (error) {
        if (!isAdcsError(error)) throw error;
        failures.push({ server: connection.name, connectionId: id, error, at: clock.now(), account: requesterAccount(connection) });
        if (!error.retryable) throw toAppError(ca.name, failures.slice(-1));
        await breakers.failure(id);
        invalidate();
      }
    }
    const real = failures.filter((f) => isAdcsError(f.error));
    throw toAppError(ca.name, [...real, ...failures.filter((f) => !isAdcsError(f.error))]);
  }

  return {
    db, clock, sleep, pool, breakers, limiter, servers, withFailover,
    /** Forget cached server lists (servers of a CA replaced, a circuit changed by a health check). */
    invalidate,
    quickRetryDelaysMs: options.quickRetryDelaysMs ?? QUICK_RETRY_DELAYS_MS,
    close: () => pool.closeAll(),
  };
}

export type AdcsRuntime = ReturnType<typeof createAdcsRuntime>;
