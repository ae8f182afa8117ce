/**
 * The OpenAPI 3.1 document of the REST layer, generated from the route table, so the
 * published contract cannot drift from what the engine serves: paths, auth, scopes, parameters
 * and bodies come from the same `RouteDef`s and validation specs that handle the requests.
 */
import type { FastifyInstance } from 'fastify';
import type { FieldSpec, ObjectSpec, SpecMeta } from './validation.ts';
import type { AuthMode, Route } from './route.ts';
import { ERROR_SCHEMAS, RESPONSE_SCHEMAS, genericSchema } from './openapi-schemas.ts';
import type { Json, JsonObject } from './json-schema.ts';
import { DOCS_PATHS, registerDocsPage } from './docs.ts';
import { operationNameOf } from './operation-names.ts';
import { documentedErrorResponses } from './operation-errors.ts';

export type { Json, JsonObject } from './json-schema.ts';

/** What the generator reads from a route; the gateway's own endpoints (health) are described the same way. */
export type DocumentedRoute = Pick<Route, 'id' | 'method' | 'path' | 'summary' | 'tag' | 'auth' | 'scope' | 'policy' | 'status'> &
  Partial<Pick<Route, 'params' | 'query' | 'body' | 'response' | 'responseName' | 'notFound' | 'idempotent' | 'events'>> & {
    /** Responses beyond the generated ones, by status. */
    extraResponses?: Record<string, JsonObject>;
  };

/** Endpoints the gateway serves itself rather than through the route table (§3.11). */
export const GATEWAY_OPERATIONS: readonly DocumentedRoute[] = [
  { id: 'HLT-1', method: 'GET', path: '/api/health', summary: 'Liveness check', tag: 'Health', auth: 'P', scope: null, policy: null, status: 200, responseName: 'HealthResponse' },
  {
    id: 'HLT-2',
    method: 'GET',
    path: '/api/health/detailed',
    summary: 'Detailed health of the database, PubSub and every subgraph',
    tag: 'Health',
    auth: 'B+K·adm',
    scope: 'api:read',
    policy: null,
    status: 200,
    responseName: 'HealthDetailedResponse',
    extraResponses: {
      '503': { description: 'At least one check is down.', content: { 'application/json': { schema: { $ref: '#/components/schemas/HealthDetailedResponse' } } } },
    },
  },
];

const AUTH_TEXT: Record<AuthMode, string> = {
  P: 'Public: credentials, if sent, are neither validated nor used.',
  B: 'Bearer token only; an API key alone gives 401 `bearer_required`.',
  'B+K': 'Bearer token or API key (`X-API-Key`).',
  'B·adm': 'Bearer token of a platform admin; an API key gives 401 `bearer_required`, a non-admin 403 `admin_required`.',
  'B+K·adm': 'Bearer token or API key (`X-API-Key`) of a platform admin; a non-admin gets 403 `admin_required`.',
  'B+I': 'Bearer token, or the internal service headers (`X-Internal-Service-Key` + `X-Acting-User-Id`).',
};

const BEARER = { bearerAuth: [] };
const API_KEY = { apiKeyAuth: [] };
const SECURITY: Record<AuthMode, JsonObject[]> = {
  P: [],
  B: [BEARER],
  'B·adm': [BEARER],
  'B+K': [BEARER, API_KEY],
  'B+K·adm': [BEARER, API_KEY],
  'B+I': [BEARER, { internalServiceKey: [], actingUserId: [] }],
};

/** Drops undefined members so the document is plain JSON. */
function compact(o: Record<string, Json | undefined>): JsonObject {
  const out: JsonObject = {};
  for (const [k, val] of Object.entries(o)) if (val !== undefined) out[k] = val;
  return out;
}

function kindSchema(meta: SpecMeta): JsonObject {
  switch (meta.kind) {
    case 'string':
      // A lowercasing field accepts any case, so its pattern (written for the lowercased text) is prose only.
      return compact({
        type: 'string',
        minLength: meta.min,
        maxLength: meta.max,
        pattern: meta.lower ? undefined : meta.pattern,
        description: meta.lower ? `Lowercased${meta.pattern ? `, then must match \`${meta.pattern}\`` : ''}.` : undefined,
      });
    case 'integer':
      return compact({ type: 'integer', minimum: meta.ge, maximum: meta.le });
    case 'boolean':
      return { type: 'boolean' };
    case 'uuid':
      return { type: 'string', format: 'uuid' };
    case 'datetime':
      return { type: 'string', format: 'date-time', description: 'RFC 3339 with a time zone offset.' };
    case 'date':
      return { type: 'string', format: 'date' };
    case 'enum':
      return { type: 'string', enum: [...meta.values] };
    case 'array':
      return compact({ type: 'array', items: schemaOf(meta.item), minItems: meta.min, maxItems: meta.max, uniqueItems: meta.unique });
    case 'object':
      return objectSchema(meta.shape);
    case 'file':
      return { type: 'string', format: 'binary' };
  }
}

/** JSON Schema of one validation spec. */
export function schemaOf(spec: FieldSpec<unknown>): JsonObject {
  const schema = kindSchema(spec.meta);
  if (spec.meta.nullable) {
    const type = schema.type;
    if (typeof type === 'string') schema.type = [type, 'null'];
    if (Array.isArray(schema.enum)) schema.enum = [...schema.enum, null];
  }
  if (spec.meta.note) schema.description = [schema.description, spec.meta.note].filter((x) => typeof x === 'string').join(' ');
  if (spec.dflt !== undefined && isJson(spec.dflt)) schema.default = spec.dflt;
  return schema;
}

function isJson(x: unknown): x is Json {
  return x === null || ['string', 'number', 'boolean'].includes(typeof x) || (typeof x === 'object' && !(x instanceof Date));
}

function objectSchema(shape: Record<string, FieldSpec<unknown>>): JsonObject {
  const properties: JsonObject = {};
  for (const [key, field] of Object.entries(shape)) properties[key] = schemaOf(field);
  const required = Object.entries(shape).filter(([, f]) => !f.optional).map(([k]) => k);
  return { type: 'object', ...(required.length > 0 ? { required } : {}), properties };
}

/** fastify's `/a/:id` → OpenAPI's `/a/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameters(route: DocumentedRoute): JsonObject[] {
  const out: JsonObject[] = [];
  const inPath = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] ?? '');
  const pathShape: Record<string, FieldSpec<unknown>> = route.params?.shape ?? {};
  for (const name of inPath) {
    const spec = pathShape[name];
    out.push({ name, in: 'path', required: true, schema: spec ? schemaOf(spec) : { type: 'string' } });
  }
  for (const [name, spec] of Object.entries(route.query?.shape ?? {})) {
    out.push({ name, in: 'query', required: !spec.optional, schema: schemaOf(spec) });
  }
  if (route.idempotent) out.push(IDEMPOTENCY_KEY_PARAMETER);
  return out;
}

/** The `Idempotency-Key` header of idempotent routes (request.ts `IDEMPOTENCY_HEADER`). */
const IDEMPOTENCY_KEY_PARAMETER: JsonObject = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Makes a retry safe (decided). A request with the same key, from the same principal (a user\'s bearer tokens share one space; each API key has its own), ' +
    'and the same body within 24 hours returns the first successful response instead of running again: one stored write. ' +
    'The same key with a different body gives 409 `idempotency_key_reused`; while the first request still runs, 409 `idempotency_key_in_progress`. ' +
    'A failed request keeps nothing, so it may be retried with its key. A streamed chat (`stream: true` or `Accept: text/event-stream`) with a used key replays the first stream (same `stream_id`) while it is resumable instead of generating again.',
  schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
};

const BODY_MEDIA_TYPE = { json: 'application/json', form: 'application/x-www-form-urlencoded', multipart: 'multipart/form-data' } as const;

function requestBody(body: NonNullable<DocumentedRoute['body']>): JsonObject {
  const type = BODY_MEDIA_TYPE[body.kind];
  return { required: !body.optional, content: { [type]: { schema: schemaOf(body.spec as ObjectSpec<unknown>) } } };
}

const ref = (kind: 'schemas' | 'responses', name: string): JsonObject => ({ $ref: `#/components/${kind}/${name}` });

/**
 * The body's schema: a route's response definition (response.ts) publishes itself and what it
 * refers to as components; a bare `responseName` (the gateway's own endpoints) is looked up.
 * `APIKeyResponse[]` names a plain JSON array of `APIKeyResponse` (§1.2).
 */
function successSchema(route: DocumentedRoute, schemas: JsonObject): JsonObject {
  if (route.response) {
    for (const def of route.response.def.components()) schemas[def.name] ??= def.schema;
    return route.response.use;
  }
  const name = route.responseName;
  if (!name) return { type: 'object' };
  const base = name.endsWith('[]') ? name.slice(0, -2) : name;
  schemas[base] ??= RESPONSE_SCHEMAS[base] ?? genericSchema(base);
  return name.endsWith('[]') ? { type: 'array', items: ref('schemas', base) } : ref('schemas', base);
}

/**
 * A success's media types: the JSON body and/or the event stream. Server-Sent Events have no
 * schema of their own in OpenAPI 3.1, so the stream is documented as the array of its events,
 * each with its `event` name, its `id` (what `Last-Event-ID` resumes after) and its JSON `data`.
 */
function successContent(route: DocumentedRoute, schemas: JsonObject): JsonObject {
  const content: JsonObject = {};
  if (!route.events?.only) content['application/json'] = { schema: successSchema(route, schemas) };
  if (route.events) {
    const { name, data, refs, id = { type: 'integer', minimum: 0 } } = route.events;
    for (const body of refs ?? []) for (const def of body.def.components()) schemas[def.name] ??= def.schema;
    schemas[name] ??= {
      type: 'array',
      description: 'Server-Sent Events, in order. Each item is one event: `event: <name>`, `id: <id>` and one `data:` line of JSON.',
      items: {
        oneOf: Object.entries(data).map(([event, schema]) => ({
          type: 'object',
          required: ['event', 'id', 'data'],
          properties: { event: { const: event }, id, data: schema },
        })),
      },
    };
    content['text/event-stream'] = { schema: ref('schemas', name) };
  }
  return content;
}

const isGatewayOperation = (route: DocumentedRoute): boolean => GATEWAY_OPERATIONS.some((op) => op.id === route.id);

function responses(route: DocumentedRoute, schemas: JsonObject): JsonObject {
  const out: JsonObject = {};
  out[String(route.status)] = route.status === 204
    ? { description: 'No Content' }
    : { description: route.status === 201 ? 'Created' : 'OK', content: successContent(route, schemas) };
  if (route.auth !== 'P') {
    out['401'] = ref('responses', 'Unauthorized');
    out['403'] = ref('responses', 'Forbidden');
  }
  if (route.notFound || route.path.includes(':')) out['404'] = ref('responses', 'NotFound');
  if (route.params || route.query || route.body) out['422'] = ref('responses', 'ValidationFailed');
  if (route.body?.kind === 'multipart') out['413'] = ref('responses', 'FileTooLarge');
  if (route.body) out['415'] = ref('responses', 'UnsupportedMediaType');
  if (route.idempotent) out['409'] = ref('responses', 'IdempotencyConflict');
  if (route.policy !== null) out['429'] = ref('responses', 'RateLimited');
  out['500'] = ref('responses', 'InternalError');
  if (route.idempotent) out['504'] = ref('responses', 'DeadlineExceeded');
  const documented = documentedErrorResponses(route.id, out);
  // Every operation the route table serves runs on a subgraph, and answers 503
  // `service_unavailable` while that subgraph is down or its circuit is open; an operation with
  // its own 503 (SKL's `integration_not_configured`) lists both codes.
  if (!isGatewayOperation(route)) {
    const own = documented['503'];
    documented['503'] = own && typeof own === 'object' && !Array.isArray(own) ? { ...own, description: `${String(own.description)}, \`service_unavailable\`` } : ref('responses', 'ServiceUnavailable');
  }
  return { ...out, ...documented, ...route.extraResponses };
}

function operation(route: DocumentedRoute, schemas: JsonObject): JsonObject {
  const description = [
    AUTH_TEXT[route.auth],
    route.scope ? `Required API-key scope: \`${route.scope}\` (bearer tokens are not scope-checked).` : null,
    route.policy ? `Rate-limit policy: \`${route.policy}\`.` : 'Not rate limited.',
  ].filter((x) => x !== null).join('\n\n');
  const params = parameters(route);
  return compact({
    operationId: operationNameOf(route.id),
    'x-xentree-id': route.id,
    summary: route.summary,
    description,
    tags: [route.tag],
    security: SECURITY[route.auth],
    parameters: params.length > 0 ? params : undefined,
    requestBody: route.body ? requestBody(route.body) : undefined,
    responses: responses(route, schemas),
    'x-auth-mode': route.auth,
    'x-required-scope': route.scope ?? undefined,
    'x-rate-limit-policy': route.policy ?? undefined,
  });
}

const errorResponse = (description: string, schema: JsonObject, headers?: JsonObject): JsonObject =>
  compact({ description, headers, content: { 'application/json': { schema } } });
const headerSpec = (description: string, type: 'string' | 'integer'): JsonObject => ({ description, schema: { type } });

const ERROR_RESPONSES: JsonObject = {
  Unauthorized: errorResponse(
    'Missing credentials (`{"detail":"Not authenticated"}`), or invalid, expired or revoked ones (coded).',
    { oneOf: [ref('schemas', 'SimpleDetail'), ref('schemas', 'Error')] },
    { 'WWW-Authenticate': headerSpec('Always `Bearer`.', 'string') },
  ),
  Forbidden: errorResponse('Authenticated but not permitted, e.g. `INSUFFICIENT_API_KEY_SCOPE` or `admin_required`.', ref('schemas', 'Error')),
  NotFound: errorResponse('The resource does not exist or the caller may not see it (`not_found`).', ref('schemas', 'Error')),
  ValidationFailed: errorResponse('Request validation failed.', ref('schemas', 'ValidationError')),
  RateLimited: errorResponse('Rate limit exceeded (`rate_limited`).', ref('schemas', 'Error'), {
    'Retry-After': headerSpec('Seconds until the window resets (at least 1).', 'integer'),
    'X-RateLimit-Limit': headerSpec('Requests allowed in the window.', 'integer'),
    'X-RateLimit-Remaining': headerSpec('Requests left in the window.', 'integer'),
    'X-RateLimit-Reset': headerSpec('Unix seconds at the end of the window.', 'integer'),
  }),
  FileTooLarge: errorResponse(
    "The file (or the whole body) exceeds 10,485,760 bytes (`file_too_large`, with `max_bytes`), or the document's text exceeds 5,000,000 characters (`document_too_large`, with `max_chars`).",
    ref('schemas', 'Error'),
  ),
  UnsupportedMediaType: errorResponse('The file type, or a body sent under a Content-Type that cannot be read (empty, no `/`), is not accepted (`unsupported_media_type`, with `accepted`).', ref('schemas', 'Error')),
  InternalError: errorResponse('Unexpected error (`internal_error`, with `request_id`).', ref('schemas', 'Error')),
  ServiceUnavailable: errorResponse(
    'A service this operation needs is down, or its circuit is open after repeated failures (`service_unavailable`); retry later.',
    ref('schemas', 'Error'),
  ),
  IdempotencyConflict: errorResponse(
    'The `Idempotency-Key` was used with a different body (`idempotency_key_reused`), or its first request is still running (`idempotency_key_in_progress`).',
    ref('schemas', 'Error'),
  ),
  DeadlineExceeded: errorResponse('The request did not finish within its time budget and stored nothing (`deadline_exceeded`); it may be retried.', ref('schemas', 'Error')),
};

export interface OpenApiInfo {
  title?: string;
  version?: string;
}

/** Adds every documented schema that a published schema refers to, until nothing is missing. */
function addReferencedSchemas(schemas: JsonObject): void {
  for (let changed = true; changed; ) {
    changed = false;
    for (const m of JSON.stringify(schemas).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      const name = m[1] ?? '';
      if (schemas[name] === undefined) {
        schemas[name] = RESPONSE_SCHEMAS[name] ?? genericSchema(name);
        changed = true;
      }
    }
  }
}

/** Builds the OpenAPI 3.1 document for `routes` plus the gateway's own endpoints. */
export function buildOpenApi(routes: readonly DocumentedRoute[], info: OpenApiInfo = {}): JsonObject {
  const schemas: JsonObject = { ...ERROR_SCHEMAS };
  const paths: Record<string, JsonObject> = {};
  const all = [...routes, ...GATEWAY_OPERATIONS];
  for (const route of all) {
    const path = openApiPath(route.path);
    const item = (paths[path] ??= {});
    item[route.method.toLowerCase()] = operation(route, schemas);
  }
  addReferencedSchemas(schemas);
  return {
    openapi: '3.1.0',
    info: {
      title: info.title ?? 'Xentree API',
      version: info.version ?? '1.0.0',
      description: 'The Xentree platform REST API. Every response carries `X-Request-ID`; errors use `{"detail": ...}` bodies.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    // Relative: the gateway that serves this document (clients set their base URL).
    servers: [{ url: '/', description: 'The gateway serving this document' }],
    tags: [...new Set(all.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas,
      responses: ERROR_RESPONSES,
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from `POST /api/auth/login`.' },
        apiKeyAuth: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An organization API key (`xntr-…`).' },
        internalServiceKey: { type: 'apiKey', in: 'header', name: 'X-Internal-Service-Key', description: 'Internal services only.' },
        actingUserId: { type: 'apiKey', in: 'header', name: 'X-Acting-User-Id', description: 'With `X-Internal-Service-Key`: the acting user.' },
      },
    },
  };
}

/** Paths served by `registerApiDocs`, for the engine's 404-vs-405 decision. */
export const API_DOCS_PATHS: readonly Pick<Route, 'method' | 'path'>[] = [{ method: 'GET', path: '/api/openapi.json' }, ...DOCS_PATHS];

/** Serves `GET /api/openapi.json` and the docs page; call inside the REST scope. */
export function registerApiDocs(api: FastifyInstance, routes: readonly Route[]): void {
  // The table is fixed at start-up, so the document is built once, when it is first asked for.
  let document: string | undefined;
  api.get('/api/openapi.json', { exposeHeadRoute: false }, async (_req, reply) => {
    document ??= JSON.stringify(buildOpenApi(routes));
    return reply.type('application/json; charset=utf-8').send(document);
  });
  registerDocsPage(api, '/api/openapi.json');
}

/** `"METHOD /path"` (fastify syntax) → the operation id metrics label the request with. */
export function operationIdsByRoute(routes: readonly Route[]): Map<string, string> {
  const ids = new Map<string, string>();
  for (const r of [...routes, ...GATEWAY_OPERATIONS]) ids.set(`${r.method} ${r.path}`, r.id);
  ids.set('GET /api/openapi.json', 'openapi');
  for (const p of DOCS_PATHS) ids.set(`${p.method} ${p.path}`, 'docs');
  return ids;
}
