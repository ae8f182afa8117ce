/**
 * OpenTelemetry tracing for every process: the SDK is started only when the OTEL_* variables ask
 * for an exporter (kernel/tracing-config.ts); otherwise nothing is registered and every span this
 * project (or @apollo/gateway) starts goes to the API's no-op tracer.
 *
 * Start it before the database modules load (bin/lifecycle.ts does, before the commands' dynamic
 * imports): the pg instrumentation patches `pg` when knex first requires it. Our own code checks
 * `tracingEnabled()` before any span or propagation work, so the off path costs one boolean test.
 */
import { context, propagation, ROOT_CONTEXT, SpanStatusCode, trace, type Context, type Span, type SpanOptions, type Tracer } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-node';
import type { TracingConfig } from './tracing-config.ts';

/** The instrumentation scope of every span this project starts itself. */
const TRACER_NAME = 'xentree-graph';

let sdk: { shutdown(): Promise<void> } | null = null;

/** Whether the SDK runs in this process (false: spans are no-ops and nothing is propagated). */
export function tracingEnabled(): boolean {
  return sdk !== null;
}

/** The project's tracer (the API's no-op tracer while tracing is off). */
export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

export interface StartTracingOptions {
  /** `service.name` when OTEL_SERVICE_NAME is not set (the process's role). */
  defaultServiceName: string;
  /** Export here instead of the configured exporter, span by span (tests: the SDK's InMemorySpanExporter). */
  exporter?: SpanExporter;
}

export interface Tracing {
  /** Exports what is buffered and stops the SDK. */
  shutdown(): Promise<void>;
}

/**
 * Starts the SDK when `config` names an exporter (or `options.exporter` is given): W3C trace
 * context propagation, the configured sampler, and the pg instrumentation (telemetry-sdk.ts).
 * Once per process; a second call returns the first one's handle.
 */
export async function startTracing(config: TracingConfig, options: StartTracingOptions): Promise<Tracing> {
  const stop: Tracing = { shutdown: stopTracing };
  if (sdk) return stop;
  if (!options.exporter && !config.exporter) return { shutdown: async () => {} };
  // The SDK's modules load only when tracing is on.
  const { registerSdk } = await import('./telemetry-sdk.ts');
  sdk = registerSdk(config, options.defaultServiceName, options.exporter);
  return stop;
}

async function stopTracing(): Promise<void> {
  const running = sdk;
  sdk = null;
  if (!running) return;
  await running.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
}

/** A header map (HTTP headers, a PubSub envelope) with the current span's `traceparent`/`tracestate` added. */
export function injectTraceHeaders(carrier: Record<string, string>, from: Context = context.active()): Record<string, string> {
  propagation.inject(from, carrier);
  return carrier;
}

/** The context a `traceparent` header (or any W3C carrier) continues; the root context when there is none. */
export function extractTraceContext(carrier: Record<string, string | string[] | undefined>): Context {
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/**
 * Runs `fn` in a span that ends when it settles (an error marks the span and is recorded).
 * With tracing off, `fn` runs as is.
 */
export async function inSpan<T>(name: string, options: SpanOptions, fn: (span: Span | null) => Promise<T>): Promise<T> {
  if (!sdk) return fn(null);
  return tracer().startActiveSpan(name, options, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      failSpan(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Marks a span failed with the error recorded (its message and type; the span is not ended). */
export function failSpan(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}
