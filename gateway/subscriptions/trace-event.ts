/**
 * Each subscription event the gateway processes, as a span (kind CONSUMER) `subscription event
 * <subgraph>`: under the subgraph's delivery span when the event's `next` message carries its
 * trace context (kernel/trace-subscriptions.ts), so the fetches the event needs from other
 * subgraphs, and the event itself, stay in the trace of the mutation that published it. An event
 * without one starts a trace of its own. Nothing with tracing off.
 */
import { context, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import type { ExecutionResult } from 'graphql';
import { extractTraceContext, failSpan, tracer, tracingEnabled } from '../../kernel/telemetry.ts';
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
