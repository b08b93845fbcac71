import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ApplicationAccess } from '../../auth/application-access.ts';
import type { OrderRow } from '../../db/schema.ts';
import type { OrderFeed } from '../../issuance/order-feed.ts';
import { orderDto } from '../dto.ts';
import { route } from '../route-table.ts';

/** Comment lines keep proxies and load balancers from closing an idle stream. */
const HEARTBEAT_MS = 20_000;
/** EventSource reconnects this long after the server ends a stream. */
const RETRY_MS = 2000;

const frame = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/**
 * `GET /api/v1/orders/events`: server-sent events (text/event-stream) of order changes, for the
 * UI's Orders page. `ready` once the feed is live (reload the list then: nothing after it is
 * missed), then one `order` event (the order as `GET /api/v1/orders/{id}` shows it) per change of
 * an order the caller may read, re-checked at each change so a removed membership stops the flow.
 * A stream ends after `maxSeconds` (EventSource then reconnects and authenticates again, so an
 * ended session ends the feed); 0 answers `ready` and ends.
 */
export function registerOrderEventRoutes(app: FastifyInstance, deps: { feed: OrderFeed; access: ApplicationAccess }): void {
  const { feed, access } = deps;
  const open = new Set<ServerResponse>();
  feed.onError((err) => app.log.warn({ err }, 'order feed: a tick failed; retrying at the next one'));
  // Long-lived responses would hold app.close() open: end them first.
  app.addHook('preClose', async () => { for (const res of open) res.end(); });

  route(app, {
    method: 'GET', url: '/api/v1/orders/events', tag: 'orders', responses: { 200: 'text/event-stream: `ready`, then `order` events' },
    summary: 'Server-sent events of changes to the orders the caller can see (the Orders page follows pending orders with it)',
    query: z.object({ maxSeconds: z.coerce.number().int().min(0).max(3600).default(600).describe('the stream ends after this long; EventSource reconnects') }).strict(),
  }, async ({ request, reply, principal, query }) => {
    let chain = Promise.resolve();
    let res: ServerResponse | undefined;
    const deliver = async (orders: OrderRow[]) => {
      const readable = await access.readableApplicationIds(principal);
      const allowed = readable === null ? null : new Set(readable);
      for (const o of orders) if (!allowed || allowed.has(o.application_id)) res?.write(frame('order', orderDto(o)));
    };
    const unsubscribe = query.maxSeconds > 0
      ? await feed.subscribe((orders) => { chain = chain.then(() => deliver(orders)).catch((err: unknown) => request.log.warn({ err }, 'order feed: delivery failed')); })
      : () => {};
    reply.hijack();
    res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no', 'x-content-type-options': 'nosniff' });
    res.write(`retry: ${RETRY_MS}\n${frame('ready', { maxSeconds: query.maxSeconds })}`);
    const heartbeat = setInterval(() => res!.write(': keep-alive\n\n'), HEARTBEAT_MS);
    const lifetime = setTimeout(() => res!.end(), query.maxSeconds * 1000);
    const cleanup = () => {
      clearInterval(heartbeat);
      clearTimeout(lifetime);
      unsubscribe();
      open.delete(res!);
      // A client that went away may leave its socket half-open behind an unfinished stream: drop it.
      if (!res!.writableEnded) res!.destroy();
    };
    if (request.raw.destroyed) return cleanup();
    res.on('close', cleanup);
    open.add(res);
    if (query.maxSeconds === 0) res.end();
  });
}
