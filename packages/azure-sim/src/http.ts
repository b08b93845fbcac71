/**
 * The few HTTP helpers every emulated service shares: bounded body reading, JSON and form
 * decoding, and writing a JSON answer with the headers Azure front ends always add.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Azure front ends refuse bodies far below this; the bound only keeps a bad client from exhausting memory. */
const MAX_BODY = 4 * 1024 * 1024;

export class BodyTooLargeError extends Error {}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY) throw new BodyTooLargeError('request body too large');
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** Parses `application/x-www-form-urlencoded`; a repeated key keeps its first value, as Entra does. */
export function parseForm(body: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(body.toString('utf8'))) if (!out.has(k)) out.set(k, v);
  return out;
}

/** JSON body as an object, or undefined when it is not a JSON object. */
export function parseJsonObject(body: Buffer): Record<string, unknown> | undefined {
  if (body.length === 0) return undefined;
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-length': '0', ...headers });
  res.end();
}

/** The request id a client sent (`client-request-id`, as MSAL and the Azure SDKs send it), else a fresh one. */
export function clientRequestId(req: IncomingMessage): string {
  const h = req.headers['client-request-id'] ?? req.headers['x-ms-client-request-id'];
  return typeof h === 'string' && h.length > 0 && h.length <= 64 ? h : randomUUID();
}

/** `Authorization: Bearer <token>` → the token, or undefined. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : undefined;
}

/** Splits a URL path into decoded segments; undefined when a segment has broken %-encoding. */
export function pathSegments(pathname: string): string[] | undefined {
  try {
    return pathname.split('/').slice(1).map(decodeURIComponent);
  } catch {
    return undefined;
  }
}
