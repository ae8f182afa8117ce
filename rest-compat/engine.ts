/**
 * The REST compatibility engine (DESIGN §5): each route in the table runs its named GraphQL
 * operation in-process on the gateway's executor with the caller's auth, and renders API.md's
 * statuses and bodies — 401/403/422/404/405 included. Adding an endpoint is one table entry plus
 * one operation.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApolloServer } from '@apollo/server';
import type { ExecutionResult, GraphQLFormattedError } from 'graphql';
import { AppError, fileTooLarge, isErrorCode, restBodyOf, type ErrorCode, type FieldError } from '../kernel/errors.ts';
import { hasScope } from '../kernel/authz.ts';
import type { AuthContext } from '../kernel/context.ts';
import type { Logger } from '../kernel/logger.ts';
import { credentialKind } from '../gateway/auth.ts';
import { RequestValidationError, parseJsonBody, v, validateRequest, validationErrorBody, type ObjectSpec, type Source } from './validation.ts';
import type { Route } from './route.ts';
import { sendSse } from './sse.ts';
import { snakeCase } from './shape.ts';
import { ROUTES } from './routes/index.ts';
import { loadOperations } from './operations.ts';
import type { HealthDetailed } from '../gateway/health.ts';
import { API_DOCS_PATHS, registerApiDocs } from './openapi.ts';
import { rateLimitHeaders, type RateLimiter } from '../gateway/rate-limit.ts';
import { MULTIPART_BODY_LIMIT, isMultipart, readMultipart } from '../gateway/multipart.ts';

export interface RestCompatDeps {
  apollo: ApolloServer<{ auth: AuthContext }>;
  authenticate(req: FastifyRequest): Promise<AuthContext>;
  logger: Logger;
  health(): Promise<HealthDetailed>;
  rateLimiter: RateLimiter;
  /** Starts a subscription on the gateway's engine (SSE routes). */
  subscribe?(query: string, operationName: string, variables: Record<string, unknown>, auth: AuthContext): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;
}

/** Sends an error in API.md's body for `code`. */
function sendError(reply: FastifyReply, code: ErrorCode, message?: string, extras: Record<string, unknown> = {}, fields?: FieldError[]): FastifyReply {
  const { status, body } = restBodyOf(code, message ?? new AppError(code).message, extras, fields);
  return reply.status(status).send(body);
}

function sendAppError(reply: FastifyReply, err: AppError, requestId: string): FastifyReply {
  if (err.code === 'INTERNAL') return sendError(reply, 'INTERNAL', undefined, { request_id: requestId });
  return sendError(reply, err.code, err.message, err.extras, err.fields);
}

const EXT_INTERNAL_KEYS = new Set(['code', 'status', 'fields', 'serviceName', 'http', 'stacktrace', 'exception']);

/** Maps a service's field errors (loc `["input","fullName"]`) to REST's (`["body","full_name"]`). */
function restFields(fields: unknown): FieldError[] {
  if (!Array.isArray(fields)) return [];
  return fields.map((f: FieldError) => ({
    ...f,
    loc: ['body', ...f.loc.slice(f.loc[0] === 'input' ? 1 : 0).map((p) => (typeof p === 'string' ? snakeCase(p) : p))],
  }));
}

function fromGraphQLError(e: GraphQLFormattedError): AppError {
  const ext = e.extensions ?? {};
  const code = ext.code;
  if (!isErrorCode(code)) return new AppError('INTERNAL', { message: e.message });
  const extras = Object.fromEntries(Object.entries(ext).filter(([k]) => !EXT_INTERNAL_KEYS.has(k)));
  return new AppError(code, { message: e.message, extras, fields: code === 'BAD_USER_INPUT' ? restFields(ext.fields) : undefined });
}

/** Compiles a fastify path (`/api/x/:id`) to a matcher for 404-vs-405 decisions. */
function pathMatcher(path: string): RegExp {
  return new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:([A-Za-z0-9_]+)/g, '[^/]+')}$`);
}

/**
 * Registers the route table, the 404/405 handling for `/api/*` and the REST error rendering.
 * Everything lives in its own fastify scope so its body parsing does not affect `/graphql`.
 */
export function registerRestCompat(app: FastifyInstance, deps: RestCompatDeps, routes: readonly Route[] = ROUTES): void {
  const operations = loadOperations();
  for (const r of routes) {
    if (!operations.has(r.operation)) throw new Error(`Route ${r.id} names unknown operation ${r.operation}`);
  }
  // Gateway-owned paths take part in the 404-vs-405 decision too.
  const owned: Pick<Route, 'method' | 'path'>[] = [
    { method: 'GET', path: '/api/health' },
    { method: 'GET', path: '/api/health/detailed' },
    ...API_DOCS_PATHS,
  ];
  const matchers = [...routes, ...owned].map((r) => ({ route: r, re: pathMatcher(r.path) }));

  app.register(async (api) => {
    // Bodies are kept as text: JSON syntax errors must become FastAPI's 422 `json_invalid`.
    api.removeAllContentTypeParsers();
    api.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    // Uploads (KB-3) are bytes with their own limit: a 10 MB file plus room for the form's framing.
    api.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit: MULTIPART_BODY_LIMIT }, (_req, body, done) => done(null, body));

    api.addHook('onSend', async (_req, reply, payload) => {
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
      if (reply.statusCode === 401) reply.header('www-authenticate', 'Bearer');
      return payload;
    });

    api.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
      if (err instanceof AppError) return sendAppError(reply, err, req.id);
      if (err.statusCode === 413 && isMultipart(req.headers['content-type'])) return sendAppError(reply, fileTooLarge(), req.id);
      if (err.statusCode === 413) return sendError(reply, 'FILE_TOO_LARGE', 'Request body is too large');
      deps.logger.error({ err, requestId: req.id }, 'REST request failed');
      return sendError(reply, 'INTERNAL', undefined, { request_id: req.id });
    });

    api.setNotFoundHandler((req, reply) => {
      const path = req.url.split('?')[0] ?? '';
      const allowed = matchers.filter((m) => m.re.test(path)).map((m) => m.route.method);
      if (allowed.length > 0) {
        return reply.status(405).header('allow', [...new Set(allowed)].join(', ')).send({ detail: 'Method Not Allowed' });
      }
      return reply.status(404).send({ detail: 'Not Found' });
    });

    registerApiDocs(api, routes);

    api.get('/api/health/detailed', { exposeHeadRoute: false }, async (req, reply) => {
      // HLT-2 is not rate limited (API.md §1.9).
      const auth = await authorise(req, reply, { auth: 'B+K·adm', scope: 'api:read', policy: null });
      if (!auth) return reply;
      const health = await deps.health();
      return reply.status(health.status === 'ok' ? 200 : 503).send(health);
    });

    for (const route of routes) {
      // No implicit HEAD routes: FastAPI answers HEAD on these paths with 405.
      api.route({ method: route.method, url: route.path, exposeHeadRoute: false, handler: (req, reply) => handle(route, req, reply) });
    }
  });

  /**
   * API.md §1.5 steps 2 to 4 (credentials, rate limit, API-key scope), then the platform-admin
   * check. Sends the error and returns null when the request may not proceed.
   */
  async function authorise(req: FastifyRequest, reply: FastifyReply, route: Pick<Route, 'auth' | 'scope' | 'policy'>): Promise<AuthContext | null> {
    const auth = await credentials(req, reply, route);
    if (!auth || !(await rateLimit(reply, route.policy, auth))) return null;
    if (auth.mode === 'api_key' && route.scope && !hasScope(auth.scopes, route.scope)) {
      sendError(reply, 'INSUFFICIENT_API_KEY_SCOPE', undefined, { required_scope: route.scope, granted_scopes: auth.scopes });
      return null;
    }
    if ((route.auth === 'B·adm' || route.auth === 'B+K·adm') && auth.role !== 'admin') {
      sendError(reply, 'ADMIN_REQUIRED');
      return null;
    }
    return auth;
  }

  /** Step 2: who is calling. Requests refused here are not counted by the rate limiter. */
  async function credentials(req: FastifyRequest, reply: FastifyReply, route: Pick<Route, 'auth'>): Promise<AuthContext | null> {
    const headers = { authorization: headerOf(req, 'authorization'), apiKey: headerOf(req, 'x-api-key') };
    if (route.auth === 'P') {
      const { anonymousContext } = await import('../kernel/context.ts');
      return anonymousContext(req.id, req.ip);
    }
    const kind = credentialKind(headers);
    if (kind === 'none') {
      sendError(reply, 'UNAUTHENTICATED');
      return null;
    }
    if (kind === 'api_key' && (route.auth === 'B' || route.auth === 'B·adm' || route.auth === 'B+I')) {
      sendError(reply, 'BEARER_REQUIRED');
      return null;
    }
    return deps.authenticate(req);
  }

  /**
   * Step 3: counts the request against the route's policy and sets API.md §1.9's headers, which
   * every later response (422, 404, …) keeps. Sends 429 and returns false when over the limit.
   */
  async function rateLimit(reply: FastifyReply, policy: Route['policy'], auth: AuthContext): Promise<boolean> {
    if (policy === null) return true;
    const decision = await deps.rateLimiter.check(policy, auth);
    if (!decision) return true;
    for (const [name, value] of rateLimitHeaders(decision)) reply.header(name, value);
    if (decision.allowed) return true;
    sendError(reply, 'RATE_LIMITED', undefined, { retry_after: decision.secondsToReset });
    return false;
  }

  async function handle(route: Route, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const auth = await authorise(req, reply, route);
    if (!auth) return reply;

    let input: { params: unknown; query: unknown; body: unknown; idempotencyKey: string | null };
    try {
      input = await parseRequest(route, req);
    } catch (err) {
      if (err instanceof RequestValidationError) return reply.status(422).send(validationErrorBody(err.items));
      throw err;
    }

    const routeInput = { ...input, auth };
    if (route.sse?.when(routeInput, req.headers)) return stream(route.sse, routeInput, req, reply);

    const query = operations.get(route.operation) ?? '';
    const variables = { ...route.variables({ ...input, auth }), ...(route.idempotent ? { idempotencyKey: input.idempotencyKey } : {}) };
    const response = await deps.apollo.executeOperation(
      { query, operationName: route.operation, variables },
      { contextValue: { auth } },
    );
    if (response.body.kind !== 'single') throw new AppError('INTERNAL', { message: 'Unexpected incremental response' });
    const { data, errors } = response.body.singleResult;
    if (errors && errors.length > 0) {
      const first = errors[0];
      if (first) return sendAppError(reply, fromGraphQLError(first), req.id);
    }
    const shaped = route.result((data ?? {}) as Record<string, unknown>);
    if (shaped === null || shaped === undefined) {
      return sendError(reply, 'NOT_FOUND', `${route.notFound ?? 'Resource'} not found`);
    }
    if (route.status === 204) return reply.status(204).send();
    return reply.status(route.statusOf?.((data ?? {}) as Record<string, unknown>) ?? route.status).send(shaped);
  }

  /** An SSE route: errors before the first event get their normal status and body. */
  async function stream(sse: NonNullable<Route['sse']>, input: Parameters<NonNullable<Route['sse']>['variables']>[0], req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    if (!deps.subscribe) throw new AppError('SERVICE_UNAVAILABLE', { message: 'Streaming is not available' });
    const query = operations.get(sse.operation) ?? '';
    const started = await deps.subscribe(query, sse.operation, sse.variables(input, req.headers), input.auth);
    const failed = (r: ExecutionResult) => (r.errors?.length ?? 0) > 0 && (r.data === null || r.data === undefined);
    if (!(Symbol.asyncIterator in started)) {
      const first = started.errors?.[0];
      return sendAppError(reply, first ? fromGraphQLError(first.toJSON()) : new AppError('INTERNAL'), req.id);
    }
    const first = await started.next();
    // Nothing to send (a resume after the last event): an empty event stream.
    if (first.done) {
      await sendSse(req, reply, null, started, () => null);
      return reply;
    }
    if (failed(first.value)) {
      await started.return?.();
      const e = first.value.errors?.[0];
      return sendAppError(reply, e ? fromGraphQLError(e.toJSON()) : new AppError('INTERNAL'), req.id);
    }
    let lastId = -1;
    await sendSse(req, reply, first.value, started, (result) => {
      if (failed(result)) {
        const e = result.errors?.[0];
        const { body } = restBodyOf(e ? fromGraphQLError(e.toJSON()).code : 'INTERNAL', e?.message ?? 'Internal server error');
        return { event: 'error', id: lastId + 1, data: body };
      }
      const frame = sse.frameOf((result.data ?? {}) as Record<string, unknown>);
      if (frame && typeof frame.id === 'number') lastId = frame.id;
      return frame;
    });
    return reply;
  }
}

function headerOf(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The fields of a multipart body (last part of a name wins, as in Starlette); none for any other body. */
async function multipartFields(req: FastifyRequest): Promise<Record<string, unknown>> {
  const type = req.headers['content-type'];
  if (!Buffer.isBuffer(req.body) || !isMultipart(type)) return {};
  // An unreadable multipart body has no fields (so the file is `missing`) rather than a 400 that
  // API.md's catalogue has no code for.
  return Object.fromEntries((await readMultipart(req.body, String(type))) ?? []);
}

/** The body as text for JSON and form routes (a multipart body arrives as bytes). */
function bodyText(body: unknown): string | undefined {
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : body;
  return typeof text === 'string' && text.length > 0 ? text : undefined;
}

/** The `Idempotency-Key` header of idempotent routes: 1..255 printable ASCII characters, no spaces. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
const idempotencyHeaderSpec = v.object({ [IDEMPOTENCY_HEADER]: v.optional(v.str({ min: 1, max: 255, pattern: /^[\x21-\x7e]+$/ })) });

/** Path, query, headers and body through the route's specs (API.md §1.5 step 5). */
async function parseRequest(route: Route, req: FastifyRequest): Promise<{ params: unknown; query: unknown; body: unknown; idempotencyKey: string | null }> {
  const specs: Partial<Record<Source, ObjectSpec<unknown>>> = {};
  const raw: Partial<Record<Source, unknown>> = {};
  if (route.idempotent) {
    specs.header = idempotencyHeaderSpec;
    const key = headerOf(req, IDEMPOTENCY_HEADER);
    raw.header = key === undefined ? {} : { [IDEMPOTENCY_HEADER]: key };
  }
  if (route.params) {
    specs.path = route.params;
    raw.path = req.params;
  }
  if (route.query) {
    specs.query = route.query;
    raw.query = req.query;
  }
  let body: unknown;
  if (route.body) {
    const text = bodyText(req.body);
    if (route.body.kind === 'multipart') {
      body = await multipartFields(req);
      specs.form = route.body.spec;
      raw.form = body;
    } else if (route.body.kind === 'form') {
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      body = text !== undefined && type === 'application/x-www-form-urlencoded' ? Object.fromEntries(new URLSearchParams(text)) : {};
      specs.form = route.body.spec;
      raw.form = body;
    } else {
      body = parseJsonBody(text);
      if (!(route.body.optional && body === undefined)) {
        specs.body = route.body.spec;
        raw.body = body;
      }
    }
  }
  const out = validateRequest(specs, raw);
  const header = out.header as Record<string, string | undefined> | undefined;
  return {
    params: out.path ?? {},
    query: out.query ?? {},
    body: route.body && route.body.kind !== 'json' ? out.form : out.body,
    idempotencyKey: header?.[IDEMPOTENCY_HEADER] ?? null,
  };
}
