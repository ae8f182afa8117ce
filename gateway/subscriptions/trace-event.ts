/**
 * Each subscription event the gateway processes, as a span (kind CONSUMER) `subscription event
 * <subgraph>`: under the subgraph's delivery span when the event's `next` message carries its
 * trace context (kernel/trace-subscriptions.ts), so the fetches the event needs from other
 * subgraphs, and the event itself, stay in the trace of the mutation that published it. An event
 * without one starts a trace of its own. Nothing with tracing off.
 *
 * And each query or mutation a client sends over the gateway's WebSocket, and the opening of each
 * subscription, as its request span (kind SERVER, `query <Name>`, `subscription <Name>`), which
 * HTTP requests get from kernel/trace-http.ts.
 */
import { context, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { getOperationAST, type DocumentNode, type ExecutionResult } from 'graphql';
import { extractTraceContext, failSpan, inSpan, tracer, tracingEnabled } from '../../kernel/telemetry.ts';
import { EVENT_TRACE_EXTENSION } from '../../kernel/trace-subscriptions.ts';

export async function inEventSpan<T>(subgraph: string, event: ExecutionResult, process: () => Promise<T>): Promise<T> {
  if (!tracingEnabled()) return process();
  const carrier = event.extensions?.[EVENT_TRACE_EXTENSION];
  const parent = carrier && typeof carrier === 'object' ? extractTraceContext(carrier as Record<string, string>) : ROOT_CONTEXT;
  const origin = trace.getSpanContext(parent);
  const span = tracer().startSpan(
    `subscription event ${subgraph}`,
    { kind: SpanKind.CONSUMER, attributes: { 'xentree.subgraph': subgraph }, links: origin ? [{ context: origin }] : [] },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), process);
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** Runs a query or mutation received over graphql-ws, or the opening of a subscription, in its request span. */
export function inWsOperationSpan<T>(document: DocumentNode, operationName: string | undefined, execute: () => Promise<T>): Promise<T> {
  if (!tracingEnabled()) return execute();
  const operation = getOperationAST(document, operationName);
  const type = operation?.operation ?? 'query';
  const name = operation?.name?.value;
  const attributes = { 'graphql.operation.type': type, 'network.protocol.name': 'websocket', ...(name ? { 'graphql.operation.name': name } : {}) };
  return inSpan(name ? `${type} ${name}` : type, { kind: SpanKind.SERVER, attributes, root: true }, () => execute());
}
