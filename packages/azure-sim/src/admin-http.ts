/**
 * The emulator's own admin API under `/sim/` on the Entra origin (bearer token from the CLI
 * config), for people running `certbridge-azure-sim` by hand: read the call log, inject and
 * clear faults, move the clock, set the propagation delay and consent decisions, and look at
 * apps and vault certificates. JSON in and out; errors are RFC 9457 problem documents.
 * These requests are neither logged nor subject to injected faults.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { AzureSimAdmin } from './admin-vaults.ts';
import { parseJsonObject, pathSegments, readBody, sendEmpty, sendJson } from './http.ts';

const faultSchema = z.object({
  service: z.enum(['entra', 'graph', 'vault', 'all']).optional(),
  status: z.union([z.literal(429), z.literal(500), z.literal(503), z.literal(403)]).optional(),
  count: z.number().int().min(1).optional(),
  retryAfterSeconds: z.number().int().min(0).optional(),
  latencyMs: z.number().int().min(0).max(120_000).optional(),
  pathContains: z.string().min(1).optional(),
}).strict().refine((f) => f.status !== undefined || (f.latencyMs ?? 0) > 0, 'a fault needs a status or a latency');
const timeSchema = z.object({ advanceMs: z.number().int().min(0) }).strict();
const propagationSchema = z.object({ delayMs: z.number().int().min(0) }).strict();
const consentSchema = z.object({ tenantId: z.string().min(1), decision: z.enum(['grant', 'deny']) }).strict();

class Problem extends Error {
  constructor(readonly status: number, readonly title: string, detail: string) {
    super(detail);
  }
}

function authorized(token: string, req: IncomingMessage): boolean {
  const h = req.headers.authorization ?? '';
  const given = Buffer.from(h.startsWith('Bearer ') ? h.slice(7).trim() : '', 'utf8');
  const want = Buffer.from(token, 'utf8');
  return given.length === want.length && timingSafeEqual(given, want);
}

async function body<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  const raw = await readBody(req);
  const json = raw.length === 0 ? {} : parseJsonObject(raw);
  if (!json) throw new Problem(400, 'BAD_JSON', 'the body must be a JSON object');
  const r = schema.safeParse(json);
  if (!r.success) throw new Problem(400, 'VALIDATION', r.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '));
  return r.data;
}

/** The handler for every `/sim/…` request of the Entra origin. */
export function createAdminHttp(token: string, admin: AzureSimAdmin) {
  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (!authorized(token, req)) throw new Problem(401, 'UNAUTHORIZED', 'Bearer admin token required');
    const parts = pathSegments(url.pathname)?.filter(Boolean).slice(1);
    if (!parts) throw new Problem(400, 'BAD_PATH', 'broken %-encoding in the path');
    const m = req.method ?? 'GET';
    // Odd positions hold ids (`apps/{appId}`, `users/{upn}/consent`, `vaults/{name}/certificates`).
    const key = `${m} ${parts.map((p, i) => (i % 2 === 1 ? ':id' : p)).join('/')}`;
    switch (key) {
      case 'GET calls': {
        const service = url.searchParams.get('service');
        if (service !== null && !['entra', 'graph', 'vault'].includes(service)) throw new Problem(400, 'VALIDATION', 'service: entra, graph or vault');
        return sendJson(res, 200, admin.calls((service ?? undefined) as 'entra' | 'graph' | 'vault' | undefined));
      }
      case 'DELETE calls':
        admin.clearCalls();
        return sendEmpty(res, 204);
      case 'POST faults':
        admin.injectFault(await body(req, faultSchema));
        return sendEmpty(res, 204);
      case 'DELETE faults':
        admin.clearFaults();
        return sendEmpty(res, 204);
      case 'POST time':
        admin.advanceTime((await body(req, timeSchema)).advanceMs);
        return sendJson(res, 200, { now: admin.now().toISOString() });
      case 'POST propagation':
        admin.setPropagationDelay((await body(req, propagationSchema)).delayMs);
        return sendEmpty(res, 204);
      case 'GET apps/:id': {
        const view = admin.app(parts[1]);
        if (!view) throw new Problem(404, 'NOT_FOUND', `no app ${parts[1]}`);
        return sendJson(res, 200, view);
      }
      case 'POST users/:id/consent': {
        const b = await body(req, consentSchema);
        try {
          admin.setConsent(b.tenantId, parts[1], b.decision);
        } catch (e) {
          throw new Problem(404, 'NOT_FOUND', e instanceof Error ? e.message : String(e));
        }
        return sendEmpty(res, 204);
      }
      case 'GET vaults/:id/certificates': {
        let view;
        try {
          view = admin.vault(parts[1]);
        } catch (e) {
          throw new Problem(404, 'NOT_FOUND', e instanceof Error ? e.message : String(e));
        }
        return sendJson(res, 200, view.certificates());
      }
      default:
        throw new Problem(404, 'NOT_FOUND', `no admin route ${m} ${url.pathname}`);
    }
  }

  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    try {
      await route(req, res, url);
    } catch (e) {
      if (!(e instanceof Problem)) throw e;
      const text = JSON.stringify({ type: 'about:blank', title: e.title, status: e.status, detail: e.message });
      res.writeHead(e.status, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    }
  };
}
