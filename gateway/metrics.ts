/**
 * Prometheus metrics of one gateway, on a registry of its own so that several
 * gateways in one process (tests) never mix their series.
 *
 * Requests are labelled by operation: the GraphQL operation name, or the REST route id
 * (`AUTH-1`). "Gateway overhead" is a request's time minus the time during which at least one
 * subgraph call was in flight, so parallel subgraph calls are not counted twice.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { syncHook } from './sync-hook.ts';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BreakerState, GuardObserver } from './resilience.ts';
import type { RateLimiter } from './rate-limit.ts';

export interface GatewayMetrics {
  registry: Registry;
  requests: Counter<'api' | 'operation' | 'status'>;
  requestDuration: Histogram<'api' | 'operation'>;
  overhead: Histogram<'api'>;
  graphqlErrors: Counter<'operation' | 'code'>;
  subgraphRequests: Counter<'subgraph'>;
  subgraphErrors: Counter<'subgraph' | 'reason'>;
  subgraphDuration: Histogram<'subgraph'>;
  subgraphRetries: Counter<'subgraph'>;
  /** 0 closed, 1 half-open, 2 open. */
  breakerState: Gauge<'subgraph'>;
  /** Rejected requests; `withRateLimitMetrics` counts them for a limiter. */
  rateLimitHits: Counter<'policy'>;
  /** Open client WebSocket connections; the subscription engine moves it. */
  websocketConnections: Gauge;
  /** Requests whose document is in no trusted documents manifest: run under `allow`, refused under `enforce`. */
  untrustedDocuments: Counter<'action'>;
  /** GraphQL POSTs of JSON by the pipeline that answered them: the gateway's own, or Apollo Server's (http-pipeline.ts). */
  graphqlPipeline: Counter<'pipeline'>;
  /** Executions that waited for admission because the event loop was saturated (gateway/admission.ts). */
  executionsQueued: Counter;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/** Creates the metrics of one gateway; `subgraphs` get their breaker series at 0 from the start. */
export function createGatewayMetrics(subgraphs: readonly string[] = []): GatewayMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const metrics: GatewayMetrics = {
    registry,
    requests: new Counter({ name: 'xentree_requests_total', help: 'HTTP requests by API (graphql, rest, other), operation and status.', labelNames: ['api', 'operation', 'status'], registers }),
    requestDuration: new Histogram({ name: 'xentree_request_duration_seconds', help: 'HTTP request latency by API and operation.', labelNames: ['api', 'operation'], buckets: LATENCY_BUCKETS, registers }),
    overhead: new Histogram({ name: 'xentree_gateway_overhead_seconds', help: 'Request time not spent waiting on subgraphs.', labelNames: ['api'], buckets: LATENCY_BUCKETS, registers }),
    graphqlErrors: new Counter({ name: 'xentree_graphql_errors_total', help: 'GraphQL errors by operation and code.', labelNames: ['operation', 'code'], registers }),
    subgraphRequests: new Counter({ name: 'xentree_subgraph_requests_total', help: 'Requests sent to each subgraph (retries included).', labelNames: ['subgraph'], registers }),
    subgraphErrors: new Counter({ name: 'xentree_subgraph_errors_total', help: 'Failed or refused subgraph calls by reason.', labelNames: ['subgraph', 'reason'], registers }),
    subgraphDuration: new Histogram({ name: 'xentree_subgraph_request_duration_seconds', help: 'Subgraph request latency.', labelNames: ['subgraph'], buckets: LATENCY_BUCKETS, registers }),
    subgraphRetries: new Counter({ name: 'xentree_subgraph_retries_total', help: 'Retried subgraph requests.', labelNames: ['subgraph'], registers }),
    breakerState: new Gauge({ name: 'xentree_circuit_breaker_state', help: 'Circuit breaker per subgraph: 0 closed, 1 half-open, 2 open.', labelNames: ['subgraph'], registers }),
    rateLimitHits: new Counter({ name: 'xentree_rate_limit_hits_total', help: 'Requests rejected by a rate limit, by policy.', labelNames: ['policy'], registers }),
    websocketConnections: new Gauge({ name: 'xentree_websocket_connections', help: 'Open client WebSocket connections.', registers }),
    untrustedDocuments: new Counter({ name: 'xentree_untrusted_documents_total', help: 'GraphQL requests whose document is in no trusted documents manifest: run (allow) or refused (enforce).', labelNames: ['action'], registers }),
    graphqlPipeline: new Counter({ name: 'xentree_graphql_pipeline_total', help: 'GraphQL POSTs of JSON by the pipeline that answered them: gateway (its own) or apollo (Apollo Server).', labelNames: ['pipeline'], registers }),
    executionsQueued: new Counter({ name: 'xentree_gateway_executions_queued_total', help: 'Queries and mutations that waited to start because the event loop was saturated (GATEWAY_BUSY_EXECUTIONS).', registers }),
  };
  for (const subgraph of subgraphs) metrics.breakerState.set({ subgraph }, 0);
  return metrics;
}

/** Feeds a SubgraphGuard's events into the metrics. */
export function guardObserver(metrics: GatewayMetrics): GuardObserver {
  return {
    attempt(subgraph, outcome, seconds) {
      metrics.subgraphRequests.inc({ subgraph });
      metrics.subgraphDuration.observe({ subgraph }, seconds);
      if (outcome !== 'ok') metrics.subgraphErrors.inc({ subgraph, reason: outcome });
    },
    refused: (subgraph) => metrics.subgraphErrors.inc({ subgraph, reason: 'circuit_open' }),
    retry: (subgraph) => metrics.subgraphRetries.inc({ subgraph }),
    state: (subgraph, state) => metrics.breakerState.set({ subgraph }, BREAKER_VALUE[state]),
  };
}

/** Per-request timing shared by the HTTP hooks, the Apollo plugin and the subgraph data source. */
export class RequestTiming {
  readonly started = performance.now();
  /** The GraphQL operation name, once Apollo resolved it. */
  operation: string | undefined;
  #inflight = 0;
  #since = 0;
  #waited = 0;

  /** Marks a subgraph call as started; call the result when it ends. */
  subgraphCall(): () => void {
    if (this.#inflight++ === 0) this.#since = performance.now();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--this.#inflight === 0) this.#waited += performance.now() - this.#since;
    };
  }

  /** Milliseconds during which at least one subgraph call was in flight. */
  get waitedMs(): number {
    return this.#waited + (this.#inflight > 0 ? performance.now() - this.#since : 0);
  }
}

// Timings travel with the request object and then in the executor's context (GatewayContext),
// not in AsyncLocalStorage: a store entered per request costs several per cent of the gateway's CPU.
const timings = new WeakMap<FastifyRequest, RequestTiming>();

/** The timing of a request, for the executor's context (GraphQL and REST alike). */
export function requestTimingOf(req: FastifyRequest): RequestTiming | undefined {
  return timings.get(req);
}

/** Counts every refusal of `limiter` in `xentree_rate_limit_hits_total{policy}`. */
export function withRateLimitMetrics(limiter: RateLimiter, metrics: GatewayMetrics): RateLimiter {
  return {
    ...limiter,
    async check(policy, auth) {
      const decision = await limiter.check(policy, auth);
      if (decision && !decision.allowed) metrics.rateLimitHits.inc({ policy });
      return decision;
    },
  };
}

/** Sets the GraphQL operation label and counts GraphQL errors. */
export function metricsPlugin<TContext extends BaseContext>(metrics: GatewayMetrics): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operationName, contextValue }) {
          const timing = (contextValue as { timing?: RequestTiming }).timing;
          if (timing && timing.operation === undefined) timing.operation = operationName ?? 'anonymous';
        },
        async didEncounterErrors({ errors, operation, operationName }) {
          // Parse, validation and authentication errors come before an operation is resolved.
          const label = operation ? operationLabel(operationName ?? 'anonymous') : UNRESOLVED;
          for (const e of errors) {
            const code = e.extensions?.code;
            metrics.graphqlErrors.inc({ operation: label, code: typeof code === 'string' ? code : 'UNKNOWN' });
          }
        },
      };
    },
  };
}

/** The operation label of GraphQL requests rejected before an operation was resolved. */
const UNRESOLVED = 'unresolved';
// Operation names come from clients: cap what becomes a label so the series stay bounded.
const MAX_OPERATION_NAMES = 200;
const seenOperations = new Set<string>();
function operationLabel(name: string): string {
  if (seenOperations.has(name)) return name;
  if (name.length > 64 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || seenOperations.size >= MAX_OPERATION_NAMES) return 'other';
  seenOperations.add(name);
  return name;
}

export interface MetricsRouteOptions {
  metrics: GatewayMetrics;
  /** `"METHOD /fastify/path"` → operation id, for REST and the gateway's own endpoints. */
  operations: ReadonlyMap<string, string>;
  production: boolean;
  /** Bearer token `/metrics` requires; null: open outside production, not served in production. */
  token: string | null;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Adds the request hooks (timing, counting) and `GET /metrics`. Call right after creating the
 * fastify instance, before any route or plugin is registered, so every route is measured.
 */
export function registerMetrics(app: FastifyInstance, opts: MetricsRouteOptions): void {
  const { metrics } = opts;
  app.addHook('onRequest', (req, _reply, done) => {
    timings.set(req, new RequestTiming());
    done();
  });
  const record = (req: FastifyRequest, reply: FastifyReply): void => {
    const route = req.routeOptions.url;
    if (route === '/metrics') return;
    const timing = timings.get(req);
    const api = route === '/graphql' ? 'graphql' : req.url.startsWith('/api/') ? 'rest' : 'other';
    const operation = api === 'graphql'
      ? (timing?.operation === undefined ? UNRESOLVED : operationLabel(timing.operation))
      : (route && opts.operations.get(`${req.method} ${route}`)) ?? (route ? 'other' : 'unmatched');
    metrics.requests.inc({ api, operation, status: String(reply.statusCode) });
    if (!timing) return;
    const totalMs = performance.now() - timing.started;
    metrics.requestDuration.observe({ api, operation }, totalMs / 1000);
    metrics.overhead.observe({ api }, Math.max(0, totalMs - timing.waitedMs) / 1000);
  };
  app.addHook('onResponse', syncHook(record));

  if (opts.production && !opts.token) return; // not served at all: fastify's own 404
  const token = opts.token;
  app.get('/metrics', { exposeHeadRoute: false }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    if (token) {
      const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
      if (!match?.[1] || !sameSecret(match[1].trim(), token)) {
        return reply.status(401).header('www-authenticate', 'Bearer').send({ detail: 'Not authenticated' });
      }
    }
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}

/** `xentree_gateway_executions{state="running"|"waiting"}`, read from `admission` at each scrape. */
export function registerAdmissionMetrics(registry: Registry, admission: { readonly running: number; readonly waiting: number }): void {
  new Gauge({
    name: 'xentree_gateway_executions',
    help: 'Queries and mutations executing (running) or waiting to start on a saturated event loop (waiting).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.set({ state: 'running' }, admission.running);
      this.set({ state: 'waiting' }, admission.waiting);
    },
  });
}
