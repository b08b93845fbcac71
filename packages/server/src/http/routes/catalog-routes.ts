import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { CatalogService } from '../../issuance/catalog-service.ts';
import { policyDto, profileDto } from '../dto.ts';
import { route } from '../route-table.ts';

const nameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes, up to 63 characters');
/** ADCS CA profiles: the certificate template (common name) and how long an order may stay pending. */
const adcsProfileFields = { template: z.string().min(1).max(200).nullable().optional(), pendingLifetimeDays: z.number().int().min(1).max(3650).optional() };

export function registerCatalogRoutes(app: FastifyInstance, deps: { catalog: CatalogService }): void {
  const { catalog } = deps;
  route(app, { method: 'GET', url: '/api/v1/policies', summary: 'List policies', tag: 'policies' }, async ({ principal }) => ({ items: (await catalog.listPolicies(principal)).map(policyDto) }));
  route(app, { method: 'GET', url: '/api/v1/policies/:id', summary: 'A policy by id or name', tag: 'policies' }, async ({ principal, params }) => policyDto(await catalog.getPolicy(principal, params['id']!)));
  route(app, {
    method: 'POST', url: '/api/v1/policies', summary: 'Create a policy', tag: 'policies', responses: { 201: 'Created' },
    body: z.object({ name: nameSchema, description: z.string().max(2000).optional(), rules: z.record(z.unknown()).default({}) }).strict(),
  }, async ({ principal, body, reply }) => reply.status(201).send(policyDto(await catalog.createPolicy(principal, body))));
  route(app, {
    method: 'PATCH', url: '/api/v1/policies/:id', summary: 'Change a policy', tag: 'policies',
    body: z.object({ description: z.string().max(2000).optional(), rules: z.record(z.unknown()).optional() }).strict(),
  }, async ({ principal, params, body }) => policyDto(await catalog.updatePolicy(principal, params['id']!, body)));

  route(app, { method: 'GET', url: '/api/v1/profiles', summary: 'List profiles', tag: 'profiles' }, async ({ principal }) => ({ items: (await catalog.listProfiles(principal)).map(profileDto) }));
  route(app, { method: 'GET', url: '/api/v1/profiles/:id', summary: 'A profile by id or slug', tag: 'profiles' }, async ({ principal, params }) => profileDto(await catalog.getProfile(principal, params['id']!)));
  route(app, {
    method: 'POST', url: '/api/v1/profiles', summary: 'Create a profile (CA + policy + defaults)', tag: 'profiles', responses: { 201: 'Created' },
    body: z.object({ slug: nameSchema, name: z.string().min(1).max(200).optional(), ca: z.string().min(1), policy: z.string().min(1), defaults: z.record(z.unknown()).optional(), ...adcsProfileFields }).strict(),
  }, async ({ principal, body, reply }) => reply.status(201).send(profileDto(await catalog.createProfile(principal, body))));
  route(app, {
    method: 'PATCH', url: '/api/v1/profiles/:id', summary: 'Change a profile', tag: 'profiles',
    body: z.object({ name: z.string().min(1).max(200).optional(), ca: z.string().min(1).optional(), policy: z.string().min(1).optional(), defaults: z.record(z.unknown()).optional(), ...adcsProfileFields }).strict(),
  }, async ({ principal, params, body }) => profileDto(await catalog.updateProfile(principal, params['id']!, body)));

  const appDto = (a: { id: string; name: string; description: string; created_at: Date; updated_at: Date }) =>
    ({ id: a.id, name: a.name, description: a.description, createdAt: a.created_at, updatedAt: a.updated_at });
  route(app, { method: 'GET', url: '/api/v1/applications', summary: 'Applications the caller can see', tag: 'applications' }, async ({ principal }) =>
    ({ items: (await catalog.listApplications(principal)).map(appDto) }));
  route(app, { method: 'GET', url: '/api/v1/applications/:appId', summary: 'An application with its profiles and members', tag: 'applications' }, async ({ principal, params }) => {
    const a = await catalog.getApplication(principal, params['appId']!);
    return { ...appDto(a), profiles: a.profiles.map(profileDto), members: a.members };
  });
  route(app, {
    method: 'POST', url: '/api/v1/applications', summary: 'Create an application', tag: 'applications', responses: { 201: 'Created' },
    body: z.object({ name: nameSchema, description: z.string().max(2000).optional(), profiles: z.array(z.string().min(1)).max(100).optional() }).strict(),
  }, async ({ principal, body, reply }) => reply.status(201).send(appDto(await catalog.createApplication(principal, body))));
  route(app, {
    method: 'PATCH', url: '/api/v1/applications/:appId', summary: 'Change description or attached profiles', tag: 'applications',
    body: z.object({ description: z.string().max(2000).optional(), profiles: z.array(z.string().min(1)).max(100).optional() }).strict(),
  }, async ({ principal, params, body }) => appDto(await catalog.updateApplication(principal, params['appId']!, body)));
  route(app, {
    method: 'PUT', url: '/api/v1/applications/:appId/members', summary: 'Add a member or change its application role', tag: 'applications',
    body: z.object({ user: z.string().min(1), role: z.enum(['owner', 'requester', 'viewer']) }).strict(),
  }, async ({ principal, params, body }) => ({ items: await catalog.setMember(principal, params['appId']!, body) }));
  route(app, { method: 'DELETE', url: '/api/v1/applications/:appId/members/:userId', summary: 'Remove a member', tag: 'applications', responses: { 204: 'Removed' } }, async ({ principal, params, reply }) => {
    await catalog.removeMember(principal, params['appId']!, params['userId']!);
    return reply.status(204).send();
  });
}
