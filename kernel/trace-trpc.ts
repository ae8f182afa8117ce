/**
 * tRPC calls as spans. The client side: each call is a CLIENT span `trpc <target>.<path>` whose
 * W3C trace context rides in the operation's context, from where the HTTP batch link puts it in
 * the request's `traceparent` header (a batch carries its first call's). In-process calls need no
 * header: the called procedure runs in the caller's context. The server side: each procedure runs
 * in a span `trpc.procedure <path>`, the child of the caller's span either way.
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { observable } from '@trpc/server/observable';
import type { AnyRouter } from '@trpc/server';
import type { Operation, OperationLink } from '@trpc/client';
import { failSpan, injectTraceHeaders, inSpan, tracer, tracingEnabled } from './telemetry.ts';

/** Where a call's trace headers are kept in its operation context. */
const TRACE_HEADERS = 'traceHeaders';

/** `link` with each call in a client span (straight to `link` when tracing is off). */
export function tracedLink<TRouter extends AnyRouter>(target: string, link: OperationLink<TRouter>): OperationLink<TRouter> {
  return (opts) => {
    if (!tracingEnabled()) return link(opts);
    return observable((observer) => {
      const { op } = opts;
      const span = tracer().startSpan(`trpc ${target}.${op.path}`, {
        kind: SpanKind.CLIENT,
        attributes: { 'rpc.system': 'trpc', 'rpc.service': target, 'rpc.method': op.path, 'xentree.subgraph': target },
      });
      let open = true;
      const end = (err?: unknown) => {
        if (!open) return;
        open = false;
        if (err !== undefined) failSpan(span, err);
        span.end();
      };
      const active = trace.setSpan(context.active(), span);
      const traced = { ...opts, op: { ...op, context: { ...op.context, [TRACE_HEADERS]: injectTraceHeaders({}, active) } } };
      const subscription = context.with(active, () =>
        link(traced).subscribe({
          next: (value) => observer.next(value),
          error: (err) => {
            end(err);
            observer.error(err);
          },
          complete: () => {
            end();
            observer.complete();
          },
        }),
      );
      return () => {
        subscription.unsubscribe();
        end();
      };
    });
  };
}

/** The trace headers of a batch: its first call's (none with tracing off). */
export function traceHeadersOf(ops: readonly Operation[]): Record<string, string> {
  const headers = ops[0]?.context[TRACE_HEADERS];
  if (!headers || typeof headers !== 'object') return {};
  return Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** Runs a procedure in its span (a tRPC middleware's body; `next` as is when tracing is off). */
export function inProcedureSpan<T extends { ok: boolean }>(path: string, next: () => Promise<T>): Promise<T> {
  if (!tracingEnabled()) return next();
  return inSpan(`trpc.procedure ${path}`, { attributes: { 'rpc.system': 'trpc', 'rpc.method': path } }, async (span) => {
    const result = await next();
    if (!result.ok) span?.setStatus({ code: SpanStatusCode.ERROR });
    return result;
  });
}
