/**
 * GraphQL phases as spans, for an Apollo Server (the gateway's and each subgraph's): `graphql.parse`
 * and `graphql.validate`, and on subgraphs `graphql.execute` (the gateway's execution is traced by
 * @apollo/gateway itself: `gateway.request`, `gateway.plan`, `gateway.execute`, `gateway.fetch`).
 * Over HTTP, the request's span (trace-http.ts) is named after the operation (`query Me`) and
 * carries `graphql.operation.name`/`graphql.operation.type`; no document, no variables.
 * Returns no plugin when tracing is off.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { context, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { tracer, tracingEnabled } from './telemetry.ts';

function phase(name: string): (err?: unknown) => Promise<void> {
  const span: Span = tracer().startSpan(name, undefined, context.active());
  return async (err) => {
    if (err) span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    span.end();
  };
}

/** The tracing plugin, or none when tracing is off. */
export function graphqlTracingPlugins<TContext extends object>(opts: { execute: boolean }): ApolloServerPlugin<TContext>[] {
  if (!tracingEnabled()) return [];
  return [
    {
      async requestDidStart({ request }) {
        const overHttp = request.http !== undefined;
        return {
          async parsingDidStart() {
            return phase('graphql.parse');
          },
          async validationDidStart() {
            const end = phase('graphql.validate');
            return (errors) => end(errors?.[0]);
          },
          async didResolveOperation({ operation, operationName }) {
            const span = trace.getActiveSpan();
            if (!span || !overHttp || !operation) return;
            const type = operation.operation;
            span.setAttributes({ 'graphql.operation.type': type, ...(operationName ? { 'graphql.operation.name': operationName } : {}) });
            span.updateName(operationName ? `${type} ${operationName}` : type);
          },
          async executionDidStart() {
            if (!opts.execute) return;
            const end = phase('graphql.execute');
            return { executionDidEnd: async (err) => end(err) };
          },
        };
      },
    },
  ];
}
