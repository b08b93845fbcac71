import { zodToJsonSchema } from 'zod-to-json-schema';
import type { ZodTypeAny } from 'zod';
import { documentedRoutes } from './route-table.ts';

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string', example: 'POLICY_VIOLATION' }, message: { type: 'string' }, details: { type: 'object' } },
    },
  },
};

const toSchema = (schema: ZodTypeAny) => zodToJsonSchema(schema, { target: 'openApi3', $refStrategy: 'none' });

/** OpenAPI 3 from the route table: every registered route, its body and query schemas, its errors. */
export function buildOpenApiDocument(publicUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of documentedRoutes) {
    const path = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const params = [...r.url.matchAll(/:([A-Za-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const queryParams = r.query
      ? Object.entries((toSchema(r.query) as { properties?: Record<string, unknown> }).properties ?? {}).map(([name, schema]) => ({ name, in: 'query', required: false, schema }))
      : [];
    const responses: Record<string, unknown> = {};
    for (const [status, description] of Object.entries(r.responses ?? { 200: 'OK' })) responses[status] = { description };
    responses['default'] = { description: 'Error', content: { 'application/json': { schema: errorSchema } } };
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      tags: [r.tag],
      ...(r.public ? { security: [] } : {}),
      parameters: [...params, ...queryParams],
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(r.body) } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'Certbridge API', version: '1', description: 'Certificate lifecycle management in front of Microsoft ADCS and internal CAs.' },
    servers: [{ url: publicUrl }],
    security: [{ bearer: [] }, { session: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'API token (cbt_…)' },
        session: { type: 'apiKey', in: 'cookie', name: 'certbridge_session', description: 'UI session; writes also need X-CSRF-Token' },
      },
    },
    paths,
  };
}
