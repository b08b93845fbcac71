import cluster, { type Worker } from 'node:cluster';
import type { BootstrapResult } from './bootstrap.ts';

/**
 * `CERTBRIDGE_WORKERS=N` (N > 1, PostgreSQL only): `certbridge serve` becomes a node:cluster
 * primary that forks N worker processes sharing the HTTP and HTTPS listen sockets, so issuance
 * uses every core. Each worker is a complete server instance, exactly like N instances on one
 * PostgreSQL (everything shared lives in the database: sessions, nonces, job locks, CRL numbers,
 * catalogue version; background jobs run through pg-boss and the audit chainer's try-lock, so
 * each runs once however many workers start it). The first worker starts alone, so migrations and
 * the first-start bootstrap run once; the others follow when it listens.
 */

/** What a worker tells the primary once it listens. */
export interface WorkerReady { type: 'certbridge-listening'; httpUrl: string; httpsUrl: string; bootstrap: BootstrapResult }

const isReady = (m: unknown): m is WorkerReady => typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'certbridge-listening';

/** In a worker: tell the primary that this instance listens. */
export function reportListening(ready: Omit<WorkerReady, 'type'>): void {
  process.send?.({ type: 'certbridge-listening', ...ready } satisfies WorkerReady);
}

export const isClusterWorker = (): boolean => cluster.isWorker;

/**
 * The primary: forks `count` workers, resolves with the first one's listening report, keeps a
 * worker that dies replaced, and on `stop()` sends SIGTERM to every worker and waits for them.
 */
export async function startWorkers(count: number, log: (line: string) => void): Promise<{ ready: WorkerReady; stop(): Promise<void> }> {
  let stopping = false;
  const fork = (): Promise<WorkerReady> => new Promise((resolve, reject) => {
    const worker: Worker = cluster.fork();
    const onMessage = (m: unknown) => {
      if (!isReady(m)) return;
      worker.off('message', onMessage);
      worker.off('exit', onEarlyExit);
      worker.on('exit', (code, signal) => {
        if (stopping) return;
        // A crashed worker is replaced; its in-flight requests failed, nothing committed is lost.
        log(`worker ${worker.process.pid} exited (${signal ?? code}); starting a replacement`);
        fork().catch((err: unknown) => log(`replacement worker failed to start: ${String(err)}`));
      });
      resolve(m);
    };
    const onEarlyExit = (code: number | null, signal: string | null) => reject(new Error(`a worker exited (${signal ?? code}) before listening`));
    worker.on('message', onMessage);
    worker.once('exit', onEarlyExit);
  });
  const ready = await fork();
  await Promise.all(Array.from({ length: count - 1 }, fork));
  return {
    ready,
    stop: async () => {
      stopping = true;
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      await Promise.all(workers.map((w) => new Promise<void>((resolve) => {
        if (w.isDead()) return resolve();
        w.once('exit', () => resolve());
        w.process.kill('SIGTERM');
      })));
    },
  };
}
