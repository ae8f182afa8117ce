/**
 * A subscription event keeps its trace past the subgraph: when a subgraph's subscription resolves
 * an event that PubSub delivered in a trace (trace-pubsub.ts), the graphql-ws `next` message it
 * sends carries the delivery span's `traceparent` in `extensions`, and the gateway processes the
 * event in a span under it (gateway/subscriptions/trace-event.ts). With tracing off nothing is
 * wrapped and results go out untouched.
 */
import { defaultFieldResolver, type ExecutionResult, type GraphQLFieldResolver } from 'graphql';
import type { Context } from '@opentelemetry/api';
import { injectTraceHeaders, tracingEnabled } from './telemetry.ts';
import { deliveryContextOf } from './trace-pubsub.ts';

/** The key of the trace context in a `next` message's `extensions`. */
export const EVENT_TRACE_EXTENSION = 'xentreeTrace';

/** The delivery context of the event each subscription (by its GraphQL context) resolved last. */
const lastEvent = new WeakMap<object, Context>();

type FieldConfig = { subscribe?: unknown; resolve?: GraphQLFieldResolver<unknown, unknown> };

/**
 * `resolvers` with each Subscription field's `resolve` noting the delivery its event came with.
 * Resolvers as they are with tracing off.
 */
export function traceSubscriptionResolvers<T extends object>(resolvers: T): T {
  if (!tracingEnabled() || !('Subscription' in resolvers)) return resolvers;
  const fields = resolvers.Subscription as Record<string, FieldConfig>;
  const traced: Record<string, FieldConfig> = {};
  for (const [name, field] of Object.entries(fields)) {
    const resolve = field.resolve ?? defaultFieldResolver;
    traced[name] = {
      ...field,
      resolve: (payload, args, ctx: unknown, info) => {
        const delivered = deliveryContextOf(payload);
        if (delivered && ctx && typeof ctx === 'object') lastEvent.set(ctx, delivered);
        return resolve(payload, args, ctx, info);
      },
    };
  }
  return { ...resolvers, Subscription: traced };
}

/** `result` with the trace context of the event it answers, for graphql-ws's `onNext` (undefined: send as is). */
export function withEventTrace<R extends Pick<ExecutionResult, 'extensions'>>(contextValue: unknown, result: R): R | undefined {
  if (!tracingEnabled() || !contextValue || typeof contextValue !== 'object') return undefined;
  const delivered = lastEvent.get(contextValue);
  if (!delivered) return undefined;
  lastEvent.delete(contextValue);
  return { ...result, extensions: { ...result.extensions, [EVENT_TRACE_EXTENSION]: injectTraceHeaders({}, delivered) } };
}
