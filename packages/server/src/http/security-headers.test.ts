import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import Fastify, { type FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { helmetOptions, registerSecurityHeaders } from './security-headers.ts';

/**
 * @fastify/helmet with the same options, as the reference: it runs helmet's middleware on every
 * request, which is what the headers recorded once at start must reproduce (values and order).
 * The policy itself (CSP, frame denial, HSTS on HTTPS only) is pinned in test/security-headers.test.ts.
 */
async function helmetReference(app: FastifyInstance, https: boolean): Promise<void> {
  // The same options object; TypeScript sees helmet's ESM and CommonJS declarations as two types.
  await app.register(helmet, helmetOptions(https) as unknown as FastifyHelmetOptions);
}

/** Header names and values of one answer, in the order they were set, without the per-answer ones. */
async function answerHeaders(install: (app: FastifyInstance) => Promise<void>, setOwnCsp = false): Promise<[string, unknown][]> {
  const app = Fastify();
  await install(app);
  app.get('/x', async (_req, reply) => (setOwnCsp ? reply.header('content-security-policy', "default-src 'none'").send({ ok: true }) : { ok: true }));
  const res = await app.inject({ url: '/x' });
  await app.close();
  return Object.entries(res.headers).filter(([name]) => !['date', 'content-length', 'connection'].includes(name));
}

describe('security headers: the fixed list sends what @fastify/helmet sent', () => {
  it.each([
    ['ok/HTTP listener (no HSTS)', false],
    ['ok/HTTPS listener (HSTS for a year)', true],
  ])('%s', async (_name, https) => {
    const ours = await answerHeaders((app) => registerSecurityHeaders(app, { https }));
    expect(ours).toEqual(await answerHeaders((app) => helmetReference(app, https)));
    expect(ours.some(([name]) => name === 'strict-transport-security')).toBe(https);
  });

  it('ok/a header the route sets itself replaces the default (Swagger UI CSP)', async () => {
    const ours = await answerHeaders((app) => registerSecurityHeaders(app, { https: false }), true);
    expect(ours).toEqual(await answerHeaders((app) => helmetReference(app, false), true));
    expect(Object.fromEntries(ours)['content-security-policy']).toBe("default-src 'none'");
  });
});
