/**
 * The client span of each call from the gateway to a subgraph (`subgraph <name>`, kind CLIENT),
 * one per attempt, with the W3C `traceparent` of that span in the request's headers so the
 * subgraph's own span is its child. @apollo/gateway's `gateway.fetch` span (one per fetch of the
 * query plan) is its parent.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { failSpan, injectTraceHeaders, tracer, tracingEnabled } from '../kernel/telemetry.ts';

interface Reply {
  errors?: readonly unknown[] | undefined;
}

/** Runs `send` with the headers to start from: empty with tracing off, else the span's trace context. */
export function traceSubgraphFetch<T extends Reply>(subgraph: string, url: URL, operationName: string | undefined, send: (headers: Record<string, string>) => Promise<T>): Promise<T> {
  if (!tracingEnabled()) return send({});
  const attributes = {
    'xentree.subgraph': subgraph,
    'http.request.method': 'POST',
    'server.address': url.hostname,
    'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    'url.full': url.href,
    ...(operationName ? { 'graphql.operation.name': operationName } : {}),
  };
  return tracer().startActiveSpan(`subgraph ${subgraph}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      const reply = await send(injectTraceHeaders({}));
      if (reply.errors?.length) span.setStatus({ code: SpanStatusCode.ERROR, message: 'the subgraph answered with errors' });
      return reply;
    } catch (err) {
      failSpan(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}
