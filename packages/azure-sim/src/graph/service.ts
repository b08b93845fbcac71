/**
 * The Microsoft Graph origin (`graphUrl`): `/v1.0/applications`, `/v1.0/applications/{id}`,
 * `/v1.0/applications(appId='{appId}')`, their `addPassword`/`removePassword` actions, `/v1.0/me`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Directory } from '../directory.ts';
import { BodyTooLargeError, parseJsonObject, pathSegments, readBody, sendEmpty, sendJson } from '../http.ts';
import type { ServiceHandler } from '../server.ts';
import type { TokenService } from '../tokens.ts';
import { addPassword, findApplication, getApplication, listApplications, meJson, removePassword, select } from './applications.ts';
import { authenticate } from './auth.ts';
import { GraphError, graphErrors, graphHeaders, sendGraphError } from './errors.ts';

const FAULTS: Record<number, () => GraphError> = { 429: graphErrors.throttled, 503: graphErrors.unavailable, 403: graphErrors.denied, 500: graphErrors.internal };
const ALT_KEY = /^applications\(appId='([^']*)'\)$/;

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const raw = await readBody(req);
  if (raw.length === 0) return undefined;
  const body = parseJsonObject(raw);
  if (!body) throw graphErrors.badJson();
  return body;
}

export function createGraphService(dir: Directory, tokens: TokenService): ServiceHandler {
  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const parts = pathSegments(url.pathname)?.filter(Boolean);
    if (!parts) throw graphErrors.noRoute(url.pathname);
    if (parts[0] !== 'v1.0' || parts.length < 2) throw graphErrors.noRoute(parts[0] ?? '');
    const caller = authenticate(req, tokens, dir);
    const method = req.method ?? 'GET';
    const ok = (body: unknown) => sendJson(res, 200, body, { ...graphHeaders(req), 'content-type': 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8' });
    if (parts[1] === 'me' && parts.length === 2) {
      if (method !== 'GET') throw graphErrors.methodNotAllowed();
      const me = meJson(dir, caller);
      return ok({ '@odata.context': me['@odata.context'], ...select(me, url.searchParams.get('$select')) });
    }
    if (parts[1] === 'applications' && parts.length === 2) {
      if (method !== 'GET') throw graphErrors.methodNotAllowed();
      return ok(listApplications(dir, caller, url.searchParams));
    }
    const alt = ALT_KEY.exec(parts[1]);
    let key: { appId?: string; objectId?: string };
    let rest: string[];
    if (alt) [key, rest] = [{ appId: alt[1] }, parts.slice(2)];
    else if (parts[1] === 'applications') [key, rest] = [{ objectId: parts[2] }, parts.slice(3)];
    else throw graphErrors.noRoute(parts[1]);
    const app = findApplication(dir, caller, key);
    if (rest.length === 0) {
      if (method !== 'GET') throw graphErrors.methodNotAllowed();
      return ok(getApplication(dir, caller, app, url.searchParams));
    }
    if (rest.length === 1 && method === 'POST' && rest[0] === 'addPassword') return ok(addPassword(dir, caller, app, await jsonBody(req)));
    if (rest.length === 1 && method === 'POST' && rest[0] === 'removePassword') {
      removePassword(caller, app, await jsonBody(req));
      return sendEmpty(res, 204, graphHeaders(req));
    }
    throw graphErrors.noRoute(rest.join('/'));
  }

  return {
    service: 'graph',
    async handle(req, res, url) {
      try {
        await route(req, res, url);
      } catch (e) {
        if (e instanceof BodyTooLargeError) return sendGraphError(req, res, new GraphError(413, 'Request_EntityTooLarge', 'The request body is too large.'), { connection: 'close' });
        if (!(e instanceof GraphError)) throw e;
        sendGraphError(req, res, e);
      }
    },
    fault(req, res, fault) {
      const status = fault.status ?? 500;
      const extra: Record<string, string> = status === 429 || status === 503 ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
      sendGraphError(req, res, (FAULTS[status] ?? graphErrors.internal)(), extra);
    },
  };
}
