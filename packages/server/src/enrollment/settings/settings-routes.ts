import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { route } from '../../http/route-table.ts';
import type { EnrollmentSettingsService } from './settings-service.ts';

const secret = z.string().min(12).max(200);
const settingsBody = z.object({
  est: z.object({
    enabled: z.boolean(),
    auth: z.enum(['basic', 'certificate', 'both']).optional(),
    username: z.string().min(1).max(100).regex(/^[^:]+$/, 'a Basic username cannot contain ":"').optional(),
    password: secret.optional(),
    default: z.boolean().optional(),
  }).strict().optional(),
  scep: z.object({
    enabled: z.boolean(),
    challenge: z.enum(['static', 'dynamic']).optional(),
    staticChallenge: z.string().min(8).max(255).optional(),
    challengeTtlSeconds: z.number().int().min(60).max(30 * 86_400).optional(),
  }).strict().optional(),
}).strict();

/** README "EST and SCEP": per application profile enrollment settings and one-time SCEP challenges. */
export function registerEnrollmentSettingsRoutes(app: FastifyInstance, deps: { settings: EnrollmentSettingsService }): void {
  const { settings } = deps;
  route(app, { method: 'GET', url: '/api/v1/applications/:appId/enrollment/:profile', summary: 'EST and SCEP settings of an application profile (secrets are never returned)', tag: 'enrollment' },
    async ({ principal, params }) => settings.get(principal, params['appId']!, params['profile']!));
  route(app, {
    method: 'PUT', url: '/api/v1/applications/:appId/enrollment/:profile', summary: 'Enable and configure EST and SCEP for an application profile', tag: 'enrollment', body: settingsBody,
  }, async ({ principal, params, body }) => settings.put(principal, params['appId']!, params['profile']!, body));
  route(app, {
    method: 'POST', url: '/api/v1/applications/:appId/enrollment/:profile/scep/challenges', summary: 'A one-time SCEP challenge password (dynamic challenge mode)', tag: 'enrollment',
    responses: { 201: 'The challenge, shown once' },
  }, async ({ principal, params, reply }) => reply.status(201).send(await settings.createChallenge(principal, params['appId']!, params['profile']!)));
}
