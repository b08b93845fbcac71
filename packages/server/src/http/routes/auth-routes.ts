import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AuthService } from '../../auth/auth-service.ts';
import { ROLES } from '../../auth/principal.ts';
import { SESSION_COOKIE } from '../authenticate.ts';
import { userDto } from '../dto.ts';
import { route } from '../route-table.ts';

const roleSchema = z.enum(ROLES as unknown as ['admin', 'operator', 'requester', 'auditor']);

export function registerAuthRoutes(app: FastifyInstance, deps: { auth: AuthService; secureCookies: boolean }): void {
  const { auth } = deps;
  route(app, {
    method: 'POST', url: '/api/v1/auth/login', summary: 'Log in with user name and password (UI session)', tag: 'auth', public: true,
    body: z.object({ username: z.string().min(1).max(200), password: z.string().min(1).max(1000) }).strict(),
    responses: { 200: 'Logged in; the session cookie is set and csrfToken must be sent as X-CSRF-Token on writes' },
  }, async ({ body, request, reply }) => {
    const session = await auth.login(body.username, body.password, request.ip);
    reply.setCookie(SESSION_COOKIE, session.sessionSecret, {
      path: '/', httpOnly: true, sameSite: 'strict', secure: deps.secureCookies, maxAge: session.expiresInSeconds,
    });
    return { user: { id: session.principal.userId, username: session.principal.username, role: session.principal.role }, csrfToken: session.csrfToken };
  });
  route(app, { method: 'POST', url: '/api/v1/auth/logout', summary: 'End the UI session', tag: 'auth', responses: { 204: 'Logged out' } }, async ({ principal, reply }) => {
    await auth.logout(principal);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.status(204).send();
  });
  route(app, { method: 'GET', url: '/api/v1/auth/me', summary: 'The calling user', tag: 'auth' }, async ({ principal }) =>
    ({ id: principal.userId, username: principal.username, role: principal.role, via: principal.via }));

  route(app, { method: 'GET', url: '/api/v1/users', summary: 'List users', tag: 'users' }, async ({ principal }) =>
    ({ items: (await auth.listUsers(principal)).map(userDto) }));
  route(app, {
    method: 'POST', url: '/api/v1/users', summary: 'Create a user', tag: 'users', responses: { 201: 'Created' },
    body: z.object({ username: z.string().regex(/^[A-Za-z0-9._@-]{1,100}$/), password: z.string().min(12).max(1000), role: roleSchema }).strict(),
  }, async ({ principal, body, reply }) => reply.status(201).send(userDto(await auth.createUser(principal, body))));
  route(app, {
    method: 'PATCH', url: '/api/v1/users/:id', summary: 'Change role, password or disable a user', tag: 'users',
    body: z.object({ password: z.string().min(12).max(1000).optional(), role: roleSchema.optional(), disabled: z.boolean().optional() }).strict(),
  }, async ({ principal, body, params }) => userDto(await auth.updateUser(principal, params['id']!, body)));

  route(app, { method: 'GET', url: '/api/v1/tokens', summary: 'List API tokens (own, or all for admins)', tag: 'tokens' }, async ({ principal }) =>
    ({ items: (await auth.listTokens(principal)).map((t) => ({ id: t.id, userId: t.user_id, name: t.name, prefix: t.prefix, expiresAt: t.expires_at, revokedAt: t.revoked_at, lastUsedAt: t.last_used_at, createdAt: t.created_at })) }));
  route(app, {
    method: 'POST', url: '/api/v1/tokens', summary: 'Create an API token; the secret is shown once', tag: 'tokens', responses: { 201: 'Created' },
    body: z.object({ name: z.string().min(1).max(200), userId: z.string().uuid().optional(), expiresAt: z.coerce.date().optional() }).strict(),
  }, async ({ principal, body, reply }) => reply.status(201).send(await auth.createToken(principal, { name: body.name, ...(body.userId ? { userId: body.userId } : {}), expiresAt: body.expiresAt ?? null })));
  route(app, { method: 'DELETE', url: '/api/v1/tokens/:id', summary: 'Revoke an API token', tag: 'tokens', responses: { 204: 'Revoked' } }, async ({ principal, params, reply }) => {
    await auth.revokeToken(principal, params['id']!);
    return reply.status(204).send();
  });
}
