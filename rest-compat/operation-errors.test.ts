import { describe, expect, it } from 'vitest';
import { ROUTES } from './areas/index.ts';
import { buildOpenApi, openApiPath, type JsonObject } from './openapi.ts';
import { OPERATION_ERRORS } from './operation-errors.ts';

describe('documented error statuses', () => {
  const doc = buildOpenApi(ROUTES);
  const paths = doc.paths as Record<string, Record<string, { responses: JsonObject }>>;

  it('every operation lists every error status it documents, with its codes', () => {
    const missing: string[] = [];
    for (const route of ROUTES) {
      const responses = paths[openApiPath(route.path)]?.[route.method.toLowerCase()]?.responses ?? {};
      for (const [status] of OPERATION_ERRORS[route.id] ?? []) if (responses[String(status)] === undefined) missing.push(`${route.id} ${status}`);
    }
    expect(missing).toEqual([]);
  });

  it('describes a status no shared response covers by its codes', () => {
    expect(paths['/api/auth/register']?.post?.responses['409']).toEqual({
      description: '`email_taken`, `username_taken`',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    });
    expect(paths['/api/core/chat']?.post?.responses['502']).toEqual({
      description: '`provider_error`',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    });
  });
});
