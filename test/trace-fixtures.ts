/**
 * Reading the spans of the SDK's in-memory exporter in trace tests: one trace's spans, a span's
 * parent and ancestors, and waiting until a span has ended (servers end theirs as the reply closes).
 */
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { SpanKind } from '@opentelemetry/api';
import { loadConfig } from '../kernel/config.ts';
import { startTracing, type Tracing } from '../kernel/telemetry.ts';
import { testEnv } from './harness.ts';

export { SpanKind };
export type { ReadableSpan };

/** Starts the SDK of this test process with an in-memory exporter (before any stack starts). */
export async function startMemoryTracing(): Promise<{ exporter: InMemorySpanExporter; tracing: Tracing }> {
  const exporter = new InMemorySpanExporter();
  const tracing = await startTracing(loadConfig(testEnv()).tracing, { defaultServiceName: 'xentree-test', exporter });
  return { exporter, tracing };
}

/** A W3C traceparent of a fresh trace, as a browser's instrumentation would send it. */
export function clientTraceparent(): { header: string; traceId: string; spanId: string } {
  const hex = (bytes: number) => Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
  const traceId = hex(16);
  const spanId = hex(8);
  return { header: `00-${traceId}-${spanId}-01`, traceId, spanId };
}

export function spansOf(exporter: InMemorySpanExporter, traceId: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
}

export function parentIdOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

/** The spans above `span` in `spans`, nearest first. */
export function ancestorsOf(span: ReadableSpan, spans: readonly ReadableSpan[]): ReadableSpan[] {
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
  const out: ReadableSpan[] = [];
  let parent = byId.get(parentIdOf(span) ?? '');
  while (parent && out.length < 100) {
    out.push(parent);
    parent = byId.get(parentIdOf(parent) ?? '');
  }
  return out;
}

/** Waits until `probe` finds what it looks for among the exported spans (servers end their span after replying). */
export async function waitForSpans<T>(probe: () => T | undefined, what: string, ms = 5_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new Error(`no ${what} among the exported spans`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The spans of a trace once every span's parent has ended (or is the client's own span). */
export function wholeTrace(exporter: InMemorySpanExporter, client: { traceId: string; spanId: string }): Promise<ReadableSpan[]> {
  return waitForSpans(() => {
    const all = spansOf(exporter, client.traceId);
    const ids = new Set([client.spanId, ...all.map((s) => s.spanContext().spanId)]);
    return all.every((s) => ids.has(parentIdOf(s) ?? '')) ? all : undefined;
  }, 'a trace whose every parent has ended');
}
