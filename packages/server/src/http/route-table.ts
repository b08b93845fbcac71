import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { z, ZodTypeAny } from 'zod';
import type { Principal } from '../auth/principal.ts';
import { AppError } from '../errors.ts';

export interface RouteSpec<B extends ZodTypeAny | undefined, Q extends ZodTypeAny | undefined> {
  method: HTTPMethods;
  url: string;
  summary: string;
  tag: string;
  /** No authentication (login, health, protocol endpoints authenticate themselves). */
  public?: boolean;
  body?: B;
  query?: Q;
  /** Documented success statuses with a short description. */
  responses?: Record<number, string>;
  /** Request body limit in bytes when it differs from the server default. */
  bodyLimit?: number;
}

type Infer<T> = T extends ZodTypeAny ? z.infer<T> : undefined;

export interface HandlerInput<B, Q> {
  request: FastifyRequest;
  reply: FastifyReply;
  body: B;
  query: Q;
  params: Record<string, string>;
  /** The authenticated caller (only absent on public routes). */
  principal: Principal;
}

/** Every documented route, in registration order: the OpenAPI document is built from this list. */
export const documentedRoutes: RouteSpec<ZodTypeAny | undefined, ZodTypeAny | undefined>[] = [];

export function zodIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

/**
 * The request's body or query through its route's schema, in the SPEC error shape. A module-level
 * function, not a closure made per request: the tsx loader names every closure it creates
 * (`Object.defineProperty(fn, 'name')`), which costs microseconds each time.
 */
function parseInput<S extends ZodTypeAny | undefined>(schema: S, value: unknown, where: 'body' | 'query'): Infer<S> {
  // The cast is the zod-inferred type of the very schema that just parsed the value.
  if (!schema) return undefined as Infer<S>;
  const parsed = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (!parsed.success) throw new AppError('VALIDATION_FAILED', `the request ${where} is invalid`, { issues: zodIssues(parsed.error) });
  return parsed.data as Infer<S>;
}

/**
 * Registers a route with the five handler steps of STYLE.md made explicit: decode (Fastify),
 * validate (zod, into the SPEC error shape), then the handler loads, calls one service and renders.
 */
export function route<B extends ZodTypeAny | undefined, Q extends ZodTypeAny | undefined>(
  app: FastifyInstance,
  spec: RouteSpec<B, Q>,
  handler: (input: HandlerInput<Infer<B>, Infer<Q>>) => Promise<unknown>,
): void {
  if (!documentedRoutes.some((r) => r.method === spec.method && r.url === spec.url)) documentedRoutes.push(spec);
  app.route({
    method: spec.method,
    url: spec.url,
    config: { public: spec.public ?? false },
    ...(spec.bodyLimit ? { bodyLimit: spec.bodyLimit } : {}),
    handler: async (request, reply) => {
      const body = parseInput<B>(spec.body as B, request.body, 'body');
      const query = parseInput<Q>(spec.query as Q, request.query, 'query');
      return handler({ request, reply, body, query, params: request.params as Record<string, string>, principal: request.principal! });
    },
  });
}
