/**
 * The emulator's own admin API under /sim/ (bearer token). It plays the CA manager
 * (certsrv.msc: approve = resubmit, deny, revoke), changes CA flags and templates at run time,
 * and injects faults. JSON in and out; errors are RFC 9457 problem documents.
 */
import type { IncomingMessage } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { caFlagsSchema, templateSchema, type CaFlags, type TemplateConfig, type UserConfig } from '../config.ts';
import type { AdminResult, CaService } from '../enroll/ca-service.ts';
import { faultsSchema, type FaultInjector } from '../faults.ts';
import { readBody } from '../web/form.ts';

export interface AdminDeps {
  token: string;
  service: CaService;
  users: UserConfig[];
  faults: FaultInjector;
  getCaFlags: () => CaFlags;
  setCaFlags: (f: CaFlags) => void;
  getTemplates: () => TemplateConfig[];
  setTemplates: (t: TemplateConfig[]) => void;
  /** Called after a fault change so the TLS certificate can be swapped. */
  onFaults: () => Promise<void>;
}

export interface JsonResponse {
  status: number;
  body: unknown;
}

function problem(status: number, code: string, detail: string): JsonResponse {
  return { status, body: { type: 'about:blank', title: code, status, detail } };
}

function authorized(deps: AdminDeps, req: IncomingMessage): boolean {
  const h = req.headers.authorization ?? '';
  const given = Buffer.from(h.startsWith('Bearer ') ? h.slice(7).trim() : '', 'utf8');
  const want = Buffer.from(deps.token, 'utf8');
  return given.length === want.length && timingSafeEqual(given, want);
}

async function jsonBody(req: IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false }> {
  const b = await readBody(req, 1_000_000);
  if (!b.ok) return { ok: false };
  if (b.body.length === 0) return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(b.body.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

function adminResult(r: AdminResult): JsonResponse {
  if (r.ok) return { status: 200, body: r.record };
  return problem(r.code === 'NOT_FOUND' ? 404 : 409, r.code, r.message);
}

const revokeSchema = z.object({ reason: z.number().int().min(0).max(10).default(0) });

async function parsed<T extends z.ZodTypeAny>(req: IncomingMessage, schema: T): Promise<{ ok: true; value: z.output<T> } | { ok: false; res: JsonResponse }> {
  const body = await jsonBody(req);
  if (!body.ok) return { ok: false, res: problem(400, 'BAD_JSON', 'body is not JSON') };
  const r = schema.safeParse(body.value);
  if (!r.success) return { ok: false, res: problem(400, 'VALIDATION', r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')) };
  return { ok: true, value: r.data };
}

/** Routes one /sim/ request. */
export async function handleAdmin(deps: AdminDeps, req: IncomingMessage, url: URL): Promise<JsonResponse> {
  if (!authorized(deps, req)) return problem(401, 'UNAUTHORIZED', 'a valid admin bearer token is required');
  const path = url.pathname.replace(/\/+$/, '');
  const m = /^\/sim\/requests\/(\d+)(?:\/(approve|deny|revoke))?$/.exec(path);
  const method = req.method ?? 'GET';
  if (path === '/sim/requests' && method === 'GET') {
    const status = url.searchParams.get('disposition');
    return { status: 200, body: deps.service.list().filter((r) => !status || r.disposition === status) };
  }
  if (m && !m[2] && method === 'GET') {
    const rec = deps.service.get(Number(m[1]));
    return rec ? { status: 200, body: rec } : problem(404, 'NOT_FOUND', `request ${m[1]} does not exist`);
  }
  if (m && m[2] && method === 'POST') {
    const id = Number(m[1]);
    if (m[2] === 'approve') return adminResult(await deps.service.approve(id, deps.users));
    if (m[2] === 'deny') return adminResult(deps.service.deny(id));
    const body = await parsed(req, revokeSchema);
    return body.ok ? adminResult(deps.service.revoke(id, body.value.reason)) : body.res;
  }
  if (path === '/sim/ca-flags') {
    if (method === 'GET') return { status: 200, body: deps.getCaFlags() };
    if (method === 'PUT') {
      const body = await parsed(req, caFlagsSchema);
      if (!body.ok) return body.res;
      deps.setCaFlags(body.value);
      return { status: 200, body: body.value };
    }
  }
  if (path === '/sim/templates') {
    if (method === 'GET') return { status: 200, body: deps.getTemplates() };
    if (method === 'PUT') {
      const body = await parsed(req, z.array(templateSchema));
      if (!body.ok) return body.res;
      deps.setTemplates(body.value);
      return { status: 200, body: body.value };
    }
  }
  if (path === '/sim/faults') {
    if (method === 'GET') return { status: 200, body: deps.faults.current };
    if (method === 'PUT' || method === 'DELETE') {
      const body = method === 'DELETE' ? { ok: true as const, value: faultsSchema.parse({}) } : await parsed(req, faultsSchema);
      if (!body.ok) return body.res;
      const f = deps.faults.set(body.value);
      await deps.onFaults();
      return { status: 200, body: f };
    }
  }
  return problem(404, 'NOT_FOUND', `no admin route ${method} ${path}`);
}
