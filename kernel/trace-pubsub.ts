/**
 * PubSub messages carry their publisher's trace context, so an event delivered to a subscriber (in
 * this process or, through Redis, another replica) is traced as part of the request that published
 * it. A traced message travels in an envelope `{"@trace": {traceparent, tracestate?}, "@payload": …}`;
 * with tracing off it is the bare payload, as before. Receivers unwrap either form, whether or not
 * they trace themselves, so replicas with and without tracing can share a channel.
 *
 * Spans: `pubsub publish` (PRODUCER) around the publish, and `pubsub deliver` (CONSUMER) around
 * each handler a message reaches: its parent is the publishing span (one trace from the mutation
 * to the subscriber) and it also carries a span link to it, the messaging conventions' way of
 * naming the message's origin. Both have `messaging.destination.name` (the channel).
 */
import { context, SpanKind, trace, type Context } from '@opentelemetry/api';
import { extractTraceContext, failSpan, injectTraceHeaders, tracer, tracingEnabled } from './telemetry.ts';

const TRACE = '@trace';
const PAYLOAD = '@payload';

interface Envelope {
  [TRACE]: Record<string, string>;
  [PAYLOAD]: unknown;
}

function isEnvelope(message: unknown): message is Envelope {
  // The cheap test first: every message goes through here, traced or not.
  if (!message || typeof message !== 'object' || !(TRACE in message) || !(PAYLOAD in message)) return false;
  return Object.keys(message).length === 2 && typeof (message as Envelope)[TRACE] === 'object';
}

/**
 * Publishes `payload` through `send`: within a trace, in a span and wrapped with that span's trace
 * context; outside one (sweepers, announcements) or with tracing off, bare.
 */
export async function tracedPublish(system: string, channel: string, payload: unknown, send: (message: unknown) => Promise<void>): Promise<void> {
  if (!tracingEnabled() || !trace.getActiveSpan()) return send(payload);
  const attributes = { 'messaging.system': system, 'messaging.destination.name': channel, 'messaging.operation.type': 'send' };
  return tracer().startActiveSpan('pubsub publish', { kind: SpanKind.PRODUCER, attributes }, async (span) => {
    try {
      await send({ [TRACE]: injectTraceHeaders({}), [PAYLOAD]: payload } satisfies Envelope);
    } catch (err) {
      failSpan(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The delivery span's context of each payload delivered in a trace (kept while the payload lives). */
const deliveries = new WeakMap<object, Context>();

/** The context of the delivery that brought `payload` (undefined when it came untraced). */
export function deliveryContextOf(payload: unknown): Context | undefined {
  return payload && typeof payload === 'object' ? deliveries.get(payload) : undefined;
}

/** Hands a received message's payload to `handler`, in a delivery span when it carries a trace context. */
export function deliver(system: string, channel: string, message: unknown, handler: (payload: unknown) => void): void {
  if (!isEnvelope(message)) return handler(message);
  const payload = message[PAYLOAD];
  if (!tracingEnabled()) return handler(payload);
  const parent = extractTraceContext(message[TRACE]);
  const origin = trace.getSpanContext(parent);
  const span = tracer().startSpan(
    'pubsub deliver',
    { kind: SpanKind.CONSUMER, attributes: { 'messaging.system': system, 'messaging.destination.name': channel, 'messaging.operation.type': 'process' }, links: origin ? [{ context: origin }] : [] },
    parent,
  );
  const delivered = trace.setSpan(parent, span);
  // A subscription resolving this event sends the delivery's context on (trace-subscriptions.ts).
  if (payload && typeof payload === 'object') deliveries.set(payload, delivered);
  try {
    context.with(delivered, () => handler(payload));
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}
