/**
 * The REST compatibility engine: each route in the table runs its named GraphQL
 * operation in-process on the gateway's executor with the caller's auth, and renders the API's
 * statuses and bodies — 401/403/422/404/405 included. Adding an endpoint is one table entry plus
 * one operation.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthContext } from '../kernel/context.ts';
import type { Logger } from '../kernel/logger.ts';
import { RequestValidationError, validationErrorBody } from './validation.ts';
import type { Route } from './route.ts';
import { createAuthorise } from './authorise.ts';
import { fromGraphQLError, registerErrorHandler, sendAppError, sendError } from './errors.ts';
import { registerNotFound } from './not-found.ts';
import { parseRequest } from './request.ts';
import { streamRoute, type Subscribe } from './sse-route.ts';
import { ROUTES } from './areas/index.ts';
import { loadOperations } from './operations.ts';
import { followPolicies } from './route-policies.ts';
import type { PolicyTable } from '../gateway/policies.ts';
import type { HealthDetailed } from '../gateway/health.ts';
import { registerApiDocs } from './openapi.ts';
import type { RateLimiter } from '../gateway/rate-limit.ts';
import { requestTimingOf } from '../gateway/metrics.ts';
import type { RunOperation } from '../gateway/operation-runner.ts';
import { MULTIPART_BODY_LIMIT } from '../gateway/multipart.ts';

export interface RestCompatDeps {
  /** Runs the route's operation on the gateway's executor. */
  runOperation: RunOperation;
  authenticate(req: FastifyRequest): Promise<AuthContext>;
  /** The internal service headers' check (routes with auth `B+I`). */
  authenticateInternal(req: FastifyRequest): Promise<AuthContext>;
  logger: Logger;
  health(): Promise<HealthDetailed>;
  rateLimiter: RateLimiter;
  /** Starts a subscription on the gateway's engine (SSE routes). */
  subscribe?: Subscribe;
  /** The field policies of the supergraph served (a live view): routes follow them across reloads. */
  policies?: PolicyTable;
}

/**
 * Registers the route table, the 404/405 handling for `/api/*` and the REST error rendering.
 * Everything lives in its own fastify scope so its body parsing does not affect `/graphql`.
 */
export function registerRestCompat(app: FastifyInstance, deps: RestCompatDeps, routes: readonly Route[] = ROUTES): void {
  const operations = loadOperations();
  const authorise = createAuthorise(deps);
  const accessOf = deps.policies
    ? followPolicies(deps.policies, operations, (route, err) => deps.logger.error({ err, route: route.id }, 'the supergraph served gives this route no single access; it keeps its access from the committed supergraph'))
    : (route: Route) => route;
  for (const r of routes) {
    if (!operations.has(r.operation)) throw new Error(`Route ${r.id} names unknown operation ${r.operation}`);
  }

  app.register(async (api) => {
    // Bodies are kept as text: JSON syntax errors must become FastAPI's 422 `json_invalid`.
    api.removeAllContentTypeParsers();
    api.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    // Uploads (KB-3) are bytes with their own limit: a 10 MB file plus room for the form's framing.
    api.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit: MULTIPART_BODY_LIMIT }, (_req, body, done) => done(null, body));

    // A Content-Type fastify cannot read ('', ';', no '/') would fail before any handler runs. The
    // handler answers 415 for it once credentials are checked (§1.5) when a body came with
    // it; without a body it says nothing, and is dropped.
    api.addHook('onRequest', async (req) => {
      if (req.headers['content-type'] === undefined || req.mediaType !== undefined) return;
      if (carriesBody(req)) unreadableType.add(req);
      delete req.raw.headers['content-type'];
    });

    api.addHook('onSend', async (_req, reply, payload) => {
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
      if (reply.statusCode === 401) reply.header('www-authenticate', 'Bearer');
      return payload;
    });

    registerErrorHandler(api, deps.logger);
    registerNotFound(api, routes);
    registerApiDocs(api, routes);

    api.get('/api/health/detailed', { exposeHeadRoute: false }, async (req, reply) => {
      // HLT-2 is not rate limited (§1.9).
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

  async function handle(route: Route, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const auth = await authorise(req, reply, accessOf(route));
    if (!auth) return reply;
    if (route.body && unreadableType.has(req)) return sendError(reply, 'UNSUPPORTED_MEDIA_TYPE', undefined, { accepted: [BODY_TYPES[route.body.kind]] });

    let input: { params: unknown; query: unknown; body: unknown; idempotencyKey: string | null };
    try {
      input = await parseRequest(route, req);
    } catch (err) {
      if (err instanceof RequestValidationError) return reply.status(422).send(validationErrorBody(err.items));
      throw err;
    }

    const routeInput = { ...input, auth };
    if (route.sse?.when(routeInput, req.headers)) return streamRoute(deps.subscribe, operations.get(route.sse.operation) ?? '', route.sse, routeInput, req, reply);

    const query = operations.get(route.operation) ?? '';
    const variables = { ...route.variables({ ...input, auth }), ...(route.idempotent ? { idempotencyKey: input.idempotencyKey } : {}) };
    const { data, errors } = await deps.runOperation({ query, operationName: route.operation, variables }, { auth, timing: requestTimingOf(req) });
    if (errors && errors.length > 0 && !(route.degradable && degraded(data, errors))) {
      const first = errors[0];
      if (first) return sendAppError(reply, fromGraphQLError(first), req.id);
    }
    const shaped = route.result((data ?? {}) as Record<string, unknown>);
    if (shaped === null || shaped === undefined) {
      return sendError(reply, 'NOT_FOUND', `${route.notFound ?? 'Resource'} not found`);
    }
    if (route.status === 204) return reply.status(204).send();
    if (route.cacheControl) reply.header('cache-control', route.cacheControl);
    return reply.status(route.statusOf?.((data ?? {}) as Record<string, unknown>) ?? route.status).send(shaped);
  }
}

/** The media type each kind of route body is read from (the `accepted` of a 415). */
const BODY_TYPES = { json: 'application/json', form: 'application/x-www-form-urlencoded', multipart: 'multipart/form-data' } as const;

/** Requests that came with a body under a Content-Type that cannot be parsed. */
const unreadableType = new WeakSet<FastifyRequest>();

function carriesBody(req: FastifyRequest): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Whether a result is whole but for what an unavailable subgraph owns: every root field has a
 * value and every error is a subgraph being unavailable (whose fields the gateway left null).
 */
function degraded(data: Record<string, unknown> | null | undefined, errors: readonly { extensions?: Record<string, unknown> }[]): boolean {
  if (!data || Object.values(data).some((v) => v === null || v === undefined)) return false;
  return errors.every((e) => e.extensions?.code === 'SERVICE_UNAVAILABLE');
}
