/**
 * The OpenTelemetry SDK, loaded by kernel/telemetry.ts only when tracing is on: the tracer
 * provider with the configured sampler and exporter, W3C trace context propagation, and the pg
 * instrumentation (each SQL statement a span, only inside a trace, its text with every literal
 * replaced by `?` (kernel/sql-text.ts) and no parameter values), and the ioredis one (each Redis
 * command inside a trace, by its name only).
 */
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { createRequire } from 'node:module';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';
import { sanitizeSql } from './sql-text.ts';
import type { TracingConfig } from './tracing-config.ts';

function samplerOf(config: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.samplerArg);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
  }
}

function exporterOf(config: TracingConfig): SpanExporter {
  if (config.exporter === 'console') return new ConsoleSpanExporter();
  const settings = { url: config.tracesUrl, headers: config.headers };
  return config.protocol === 'http/json' ? new OtlpJsonExporter(settings) : new OtlpProtoExporter(settings);
}

/** Registers the SDK globally; `exporter` (tests) replaces the configured one and exports each span at once. */
export function registerSdk(config: TracingConfig, defaultServiceName: string, exporter?: SpanExporter): { shutdown(): Promise<void> } {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName ?? defaultServiceName }),
    sampler: samplerOf(config),
    spanProcessors: [exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporterOf(config))],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    // Statements outside a request (migrations, sweepers) would each be a trace of their own.
    instrumentations: [
      new PgInstrumentation({
        requireParentSpan: true,
        enhancedDatabaseReporting: false,
        // MikroORM inlines values into the statement text: the attribute gets it with literals as `?`.
        requestHook: (span, info) => span.setAttribute('db.query.text', sanitizeSql(info.query.text)),
      }),
      // Redis commands (PubSub publishes, rate-limit counters, persisted queries) inside a trace,
      // named by the command alone: keys carry user ids and client addresses.
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
    ],
  });
  // The instrumentations patch a module when it is next required; ioredis is imported as ESM
  // before this runs (kernel/pubsub.ts), and an ESM import does not pass the require hook. Its
  // exports are the one CommonJS object either way, so requiring it here patches what is in use.
  createRequire(import.meta.url)('ioredis');
  return {
    async shutdown() {
      unregister();
      await provider.shutdown();
    },
  };
}
