/**
 * The span of each incoming HTTP request (kind SERVER), for a fastify app: it continues the
 * caller's W3C `traceparent` (a browser's, the gateway's, another service's), and the whole
 * request, from fastify's first hook to the reply, runs inside it, so every span started while
 * answering (GraphQL phases, subgraph fetches, tRPC calls, SQL) is its descendant. Named
 * `<METHOD> <route>` once fastify has matched the route; GraphQL adds the operation (trace-graphql.ts).
 *
 * Fastify is loaded as CommonJS from our ESM code, where the http instrumentation's require hook
 * cannot be relied on; wrapping the server's `request` listener is the same technique, done here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { extractTraceContext, tracer, tracingEnabled } from './telemetry.ts';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** The trace each request is part of, for its log line. */
const traceIds = new WeakMap<IncomingMessage, string>();

/** The trace id of a request this process traces (undefined with tracing off), for log lines. */
export function traceIdOf(req: IncomingMessage): string | undefined {
  return traceIds.get(req);
}

/** Traces every request `app` serves (nothing when tracing is off). Call before `listen`. */
export function traceRequests(app: FastifyInstance, scope: Record<string, string> = {}): void {
  if (!tracingEnabled()) return;
  const server = app.server;
  const listeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  for (const listener of listeners) server.on('request', (req: IncomingMessage, res: ServerResponse) => inServerSpan(req, res, scope, () => listener.call(server, req, res)));
  app.addHook('onRequest', async (req) => {
    const span = trace.getActiveSpan();
    const route = req.routeOptions.url;
    if (!span || !route) return;
    span.updateName(`${req.method} ${route}`);
    span.setAttribute('http.route', route);
  });
}

/** Probes and scrapes, every few seconds from every process: a trace each only when the caller sends one. */
const UNTRACED = new Set(['/healthz', '/api/health', '/api/health/detailed', '/metrics']);

function inServerSpan(req: IncomingMessage, res: ServerResponse, scope: Record<string, string>, handle: () => void): void {
  const method = req.method ?? 'GET';
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (UNTRACED.has(path) && req.headers.traceparent === undefined) return handle();
  const span = tracer().startSpan(
    method,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': path, ...scope } },
    extractTraceContext(req.headers),
  );
  traceIds.set(req, span.spanContext().traceId);
  res.once('close', () => {
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    else if (!res.writableFinished) span.setStatus({ code: SpanStatusCode.ERROR, message: 'the client closed the connection' });
    span.end();
  });
  context.with(trace.setSpan(context.active(), span), handle);
}
