/**
 * The OpenAPI 3.1 document generated from the route table: every route is in it with its API
 * id, auth, scope, parameters and bodies derived from the validation specs, and the document is
 * valid according to an independent OpenAPI validator.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { buildOpenApi, openApiPath, operationIdsByRoute, schemaOf, type JsonObject } from './openapi.ts';
import { defineRoute, type AuthMode, type Route } from './route.ts';
import { ROUTES } from './areas/index.ts';
import { RESPONSE_SCHEMAS } from './openapi-schemas.ts';
import { v } from './validation.ts';
import { OPERATION_NAMES, operationNameOf } from './operation-names.ts';

async function validity(doc: JsonObject): Promise<{ valid: boolean; version: string; errors: unknown }> {
  const validator = new Validator();
  const res = await validator.validate(doc);
  return { valid: res.valid, version: validator.version, errors: res.errors ?? null };
}

function operationOf(doc: JsonObject, method: string, path: string): JsonObject {
  const paths = doc.paths as Record<string, Record<string, JsonObject>>;
  const op = paths[path]?.[method];
  if (!op) throw new Error(`${method} ${path} is not in the document`);
  return op;
}

/** A route exercising every kind of spec, for exact schema checks. */
const sample = defineRoute({
  id: 'TEST-1',
  method: 'PATCH',
  path: '/api/things/:thing_id/parts/:part_id',
  summary: 'Update a part',
  tag: 'Things',
  auth: 'B+K',
  scope: 'things:write',
  policy: 'default',
  params: v.object({ thing_id: v.uuid(), part_id: v.uuid() }),
  query: v.object({ limit: v.optional(v.int({ ge: 1, le: 100 }), 20), tags: v.optional(v.list(v.str())) }),
  body: {
    kind: 'json',
    spec: v.object({
      name: v.str({ min: 1, max: 100 }),
      code: v.str({ lower: true, pattern: /^[a-z]{3}$/ }),
      kind: v.optional(v.nullable(v.enumOf(['a', 'b'] as const))),
      due_at: v.optional(v.nullable(v.datetime())),
      scopes: v.list(v.enumOf(['x:read', 'x:write'] as const), { min: 1, max: 2, unique: true }),
      zone: v.custom(v.str(), () => null, 'An IANA time zone.'),
      active: v.optional(v.bool()),
      nested: v.optional(v.object({ n: v.int() })),
    }),
  },
  operation: 'UpdatePart',
  variables: () => ({}),
  result: () => ({}),
  status: 200,
  notFound: 'Part',
  responseName: 'PartResponse',
});

describe('the document for the route table', () => {
  it('is valid OpenAPI 3.1', async () => {
    expect(await validity(buildOpenApi(ROUTES))).toEqual({ valid: true, version: '3.1', errors: null });
  });

  it('has every route with its method, path, id, summary, tag, auth and scope', () => {
    const doc = buildOpenApi(ROUTES);
    expect(ROUTES.length).toBeGreaterThan(0);
    for (const route of ROUTES) {
      const op = operationOf(doc, route.method.toLowerCase(), openApiPath(route.path));
      expect(op).toMatchObject({ operationId: operationNameOf(route.id), 'x-xentree-id': route.id, summary: route.summary, tags: [route.tag], 'x-auth-mode': route.auth });
      expect(op['x-required-scope']).toBe(route.scope ?? undefined);
      if (route.scope) expect(String(op.description)).toContain(`\`${route.scope}\``);
      expect(Object.keys(op.responses as JsonObject)).toContain(String(route.status));
    }
    const ops = Object.values(doc.paths as Record<string, Record<string, JsonObject>>).flatMap((item) => Object.values(item));
    expect(ops.map((op) => op['x-xentree-id']).sort()).toEqual([...ROUTES.map((r) => r.id), 'HLT-1', 'HLT-2'].sort());
    // Every operation has its own meaningful camelCase name (operation-names.ts), not its id.
    const names = ops.map((op) => String(op.operationId));
    expect(new Set(names).size).toBe(names.length);
    expect(names.filter((n) => !/^[a-z][a-zA-Z]*$/.test(n))).toEqual([]);
    expect(ops.filter((op) => OPERATION_NAMES[String(op['x-xentree-id'])] !== op.operationId).map((op) => op['x-xentree-id'])).toEqual([]);
  });

  it('documents health, including the 503 of a degraded HLT-2', () => {
    const doc = buildOpenApi(ROUTES);
    expect(operationOf(doc, 'get', '/api/health')).toMatchObject({ operationId: 'getHealth', 'x-xentree-id': 'HLT-1', security: [], responses: { '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/HealthResponse' } } } } } });
    const hlt2 = operationOf(doc, 'get', '/api/health/detailed');
    expect(hlt2).toMatchObject({ operationId: 'getDetailedHealth', 'x-xentree-id': 'HLT-2', 'x-required-scope': 'api:read', security: [{ bearerAuth: [] }, { apiKeyAuth: [] }] });
    expect(Object.keys(hlt2.responses as JsonObject)).toEqual(['200', '401', '403', '500', '503']);
    expect((doc.components as { schemas: JsonObject }).schemas.HealthCheck).toEqual({
      type: 'object',
      required: ['status', 'latency_ms'],
      properties: { status: { type: 'string', enum: ['ok', 'down'] }, latency_ms: { type: 'integer', minimum: 0, maximum: 2000 } },
    });
  });

  it('publishes AUTH-2 as a form body and its documented response schema', () => {
    const doc = buildOpenApi(ROUTES);
    const login = operationOf(doc, 'post', '/api/auth/login');
    expect(Object.keys((login.requestBody as { content: JsonObject }).content)).toEqual(['application/x-www-form-urlencoded']);
    expect((doc.components as { schemas: JsonObject }).schemas.TokenResponse).toMatchObject({ required: ['access_token', 'token_type', 'refresh_token'] });
  });

  it('publishes KB-3 as a multipart/form-data body with the file as binary, plus its 413 and 415', () => {
    const doc = buildOpenApi(ROUTES);
    const upload = operationOf(doc, 'post', '/api/knowledge/documents');
    expect(upload.requestBody).toEqual({
      required: true,
      content: {
        'multipart/form-data': {
          schema: {
            type: 'object',
            required: ['file'],
            properties: {
              file: { type: 'string', format: 'binary' },
              title: { type: 'string', minLength: 1, maxLength: 200 },
              scope: { type: 'string', enum: ['user', 'conversation'], default: 'user' },
              conversation_id: { type: 'string', format: 'uuid' },
              shared: { type: 'boolean', default: false },
              organization_id: { type: 'string', format: 'uuid' },
              upload_id: { type: 'string', format: 'uuid' },
            },
          },
        },
      },
    });
    expect(Object.keys(upload.responses as JsonObject)).toEqual(['201', '400', '401', '403', '404', '409', '413', '415', '422', '429', '500', '503', '504']);
    expect(upload['x-rate-limit-policy']).toBe('upload');
    expect((doc.components as { responses: JsonObject }).responses.FileTooLarge).toMatchObject({ content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  });

  it('documents the Idempotency-Key header, its 409 and the 504 on CONV-2 and KB-3 only', () => {
    const doc = buildOpenApi(ROUTES);
    const withHeader: string[] = [];
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, JsonObject>>)) {
      for (const [method, op] of Object.entries(item)) {
        const params = (op.parameters ?? []) as JsonObject[];
        if (params.some((p) => p.name === 'Idempotency-Key')) withHeader.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(withHeader.sort()).toEqual(['POST /api/core/chat', 'POST /api/knowledge/documents']);
    const chat = operationOf(doc, 'post', '/api/core/chat');
    expect(chat.parameters).toEqual([
      {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description: expect.stringContaining('409 `idempotency_key_reused`'),
        schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
      },
    ]);
    expect(Object.keys(chat.responses as JsonObject)).toEqual(['200', '400', '401', '403', '404', '409', '415', '422', '429', '500', '502', '503', '504']);
    const responses = (doc.components as { responses: JsonObject }).responses;
    expect(responses.IdempotencyConflict).toMatchObject({ content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
    expect(responses.DeadlineExceeded).toMatchObject({ description: expect.stringContaining('`deadline_exceeded`') });
  });
});

describe('schemas derived from the validation specs', () => {
  const doc = buildOpenApi([sample]);
  const op = operationOf(doc, 'patch', '/api/things/{thing_id}/parts/{part_id}');

  it('is still valid OpenAPI 3.1', async () => {
    expect(await validity(doc)).toEqual({ valid: true, version: '3.1', errors: null });
  });

  it('turns path and query specs into parameters', () => {
    expect(op.parameters).toEqual([
      { name: 'thing_id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
      { name: 'part_id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
      { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
      { name: 'tags', in: 'query', required: false, schema: { type: 'array', items: { type: 'string' } } },
    ]);
  });

  it('turns the body spec into a JSON Schema with its constraints', () => {
    expect(op.requestBody).toEqual({
      required: true,
      content: {
        'application/json': {
          schema: {
            type: 'object',
            required: ['name', 'code', 'scopes', 'zone'],
            properties: {
              name: { type: 'string', minLength: 1, maxLength: 100 },
              code: { type: 'string', description: 'Lowercased, then must match `^[a-z]{3}$`.' },
              kind: { type: ['string', 'null'], enum: ['a', 'b', null] },
              due_at: { type: ['string', 'null'], format: 'date-time', description: 'RFC 3339 with a time zone offset.' },
              scopes: { type: 'array', items: { type: 'string', enum: ['x:read', 'x:write'] }, minItems: 1, maxItems: 2, uniqueItems: true },
              zone: { type: 'string', description: 'An IANA time zone.' },
              active: { type: 'boolean' },
              nested: { type: 'object', required: ['n'], properties: { n: { type: 'integer', minimum: -2147483648, maximum: 2147483647 } } },
            },
          },
        },
      },
    });
  });

  it('states auth, scope and rate-limit policy, and every applicable error response', () => {
    expect(op).toMatchObject({
      operationId: 'test1',
      'x-xentree-id': 'TEST-1',
      security: [{ bearerAuth: [] }, { apiKeyAuth: [] }],
      'x-required-scope': 'things:write',
      'x-rate-limit-policy': 'default',
      description: 'Bearer token or API key (`X-API-Key`).\n\nRequired API-key scope: `things:write` (bearer tokens are not scope-checked).\n\nRate-limit policy: `default`.',
    });
    expect(op.responses).toEqual({
      '200': { description: 'OK', content: { 'application/json': { schema: { $ref: '#/components/schemas/PartResponse' } } } },
      '401': { $ref: '#/components/responses/Unauthorized' },
      '403': { $ref: '#/components/responses/Forbidden' },
      '404': { $ref: '#/components/responses/NotFound' },
      '415': { $ref: '#/components/responses/UnsupportedMediaType' },
      '422': { $ref: '#/components/responses/ValidationFailed' },
      '429': { $ref: '#/components/responses/RateLimited' },
      '500': { $ref: '#/components/responses/InternalError' },
      '503': { $ref: '#/components/responses/ServiceUnavailable' },
    });
    const components = doc.components as { schemas: JsonObject; responses: JsonObject };
    expect(components.schemas.PartResponse).toEqual({ type: 'object', description: '`PartResponse` as documented in the API contract.', additionalProperties: true });
    expect(components.responses.ValidationFailed).toEqual({ description: 'Request validation failed.', content: { 'application/json': { schema: { $ref: '#/components/schemas/ValidationError' } } } });
    expect(components.schemas.Error).toMatchObject({ required: ['detail'], properties: { detail: { required: ['error', 'message'] } } });
  });

  it('maps each auth mode to its security requirement', () => {
    const modes: AuthMode[] = ['P', 'B', 'B+K', 'B·adm', 'B+K·adm', 'B+I'];
    const routes: Route[] = modes.map((auth, i) => ({ ...sample, id: `M-${i}`, path: `/api/m${i}`, auth, params: undefined }));
    const built = buildOpenApi(routes);
    expect(modes.map((_, i) => operationOf(built, 'patch', `/api/m${i}`).security)).toEqual([
      [],
      [{ bearerAuth: [] }],
      [{ bearerAuth: [] }, { apiKeyAuth: [] }],
      [{ bearerAuth: [] }],
      [{ bearerAuth: [] }, { apiKeyAuth: [] }],
      [{ bearerAuth: [] }, { internalServiceKey: [], actingUserId: [] }],
    ]);
  });

  it('documents 204 without a body and `Name[]` as a plain array', () => {
    const built = buildOpenApi([
      { ...sample, id: 'D-1', method: 'DELETE', status: 204, responseName: undefined, body: undefined, query: undefined },
      { ...sample, id: 'L-1', method: 'GET', path: '/api/things', params: undefined, body: undefined, query: undefined, responseName: 'ThingResponse[]', policy: null, auth: 'P', notFound: undefined },
    ]);
    const del = operationOf(built, 'delete', '/api/things/{thing_id}/parts/{part_id}');
    expect((del.responses as JsonObject)['204']).toEqual({ description: 'No Content' });
    expect(del.requestBody).toBeUndefined();
    const list = operationOf(built, 'get', '/api/things');
    expect(list.responses).toEqual({
      '200': { description: 'OK', content: { 'application/json': { schema: { type: 'array', items: { $ref: '#/components/schemas/ThingResponse' } } } } },
      '500': { $ref: '#/components/responses/InternalError' },
      '503': { $ref: '#/components/responses/ServiceUnavailable' },
    });
    expect(list.parameters).toBeUndefined();
  });

  it('lists 503 `service_unavailable` on every routed operation, beside an operation\'s own 503 code', () => {
    const doc = buildOpenApi(ROUTES);
    const ops = Object.values(doc.paths as Record<string, Record<string, JsonObject>>).flatMap((item) => Object.values(item));
    const without = ops.filter((op) => (op.responses as JsonObject)['503'] === undefined).map((op) => op['x-xentree-id']);
    expect(without).toEqual(['HLT-1']);
    expect(operationOf(doc, 'get', '/api/health/detailed').responses).toMatchObject({ '503': { description: 'At least one check is down.' } });
    expect((operationOf(doc, 'get', '/api/integrations/google-calendar/oauth/start').responses as JsonObject)['503']).toMatchObject({ description: '`integration_not_configured`, `service_unavailable`' });
    expect((doc.components as { responses: JsonObject }).responses.ServiceUnavailable).toMatchObject({ description: expect.stringContaining('`service_unavailable`') });
  });

  it('documents the Live events stream as text/event-stream, each event with its data schema and its `<at>/<event>` id', () => {
    const doc = buildOpenApi(ROUTES);
    const op = operationOf(doc, 'get', '/api/live/events');
    expect((op.responses as JsonObject)['200']).toEqual({ description: 'OK', content: { 'text/event-stream': { schema: { $ref: '#/components/schemas/LiveEvents' } } } });
    const schemas = (doc.components as { schemas: Record<string, JsonObject> }).schemas;
    const items = (schemas.LiveEvents?.items as { oneOf: JsonObject[] }).oneOf;
    expect(items.map((i) => (i.properties as Record<string, JsonObject>).event)).toEqual(['started', 'credited', 'quota_low', 'quota_exhausted', 'ended'].map((e) => ({ const: e })));
    expect((items[0]?.properties as Record<string, JsonObject>).id).toMatchObject({ type: 'string' });
    expect(schemas.LiveEventData).toMatchObject({ required: ['type', 'at', 'credited_seconds', 'session', 'quota', 'user'] });
    expect(schemas.LiveEventSession).toMatchObject({ properties: { ended_at: { type: ['string', 'null'] } } });
  });

  it('keeps validation behaviour separate from the description', () => {
    // A bound left open is GraphQL's 32-bit Int, which the validator enforces and so documents.
    expect(schemaOf(v.nullable(v.int({ ge: 0 })))).toEqual({ type: ['integer', 'null'], minimum: 0, maximum: 2147483647 });
    expect(schemaOf(v.optional(v.bool(), false))).toEqual({ type: 'boolean', default: false });
  });
});

describe('operationIdsByRoute', () => {
  it('labels REST routes by id and the gateway endpoints by name', () => {
    const ids = operationIdsByRoute([sample]);
    expect(Object.fromEntries(ids)).toEqual({
      'PATCH /api/things/:thing_id/parts/:part_id': 'TEST-1',
      'GET /api/health': 'HLT-1',
      'GET /api/health/detailed': 'HLT-2',
      'GET /api/openapi.json': 'openapi',
      'GET /api/docs': 'docs',
      'GET /api/docs/swagger-ui.css': 'docs',
      'GET /api/docs/swagger-ui-bundle.js': 'docs',
      'GET /api/docs/favicon-32x32.png': 'docs',
      'GET /api/docs/init.js': 'docs',
    });
  });
});

describe('response schemas', () => {
  it('has a full schema for every documented response of the route table (no generic placeholders)', () => {
    const names = [...new Set(ROUTES.flatMap((r) => (r.responseName ? [r.responseName.replace(/\[\]$/, '')] : [])))];
    expect(names.filter((n) => !(n in RESPONSE_SCHEMAS))).toEqual([]);
    expect(names.length).toBeGreaterThan(20);
  });
});
