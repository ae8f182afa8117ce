/**
 * Each AI provider call as a span (kind CLIENT), named after OpenTelemetry's generative-AI
 * conventions: `chat <model>` with `gen_ai.operation.name`, `gen_ai.provider.name`,
 * `gen_ai.request.model`, and the number of streamed deltas. No prompt or reply text.
 */
import { SpanKind } from '@opentelemetry/api';
import { failSpan, tracer, tracingEnabled } from '../telemetry.ts';
import type { AiProvider, ChatTurn, GenerateOptions } from './provider.ts';

async function* tracedGenerate(provider: AiProvider, messages: readonly ChatTurn[], options: GenerateOptions): AsyncGenerator<string> {
  const span = tracer().startSpan(`chat ${options.model}`, {
    kind: SpanKind.CLIENT,
    attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': provider.id, 'gen_ai.request.model': options.model },
  });
  let deltas = 0;
  try {
    for await (const delta of provider.generate(messages, options)) {
      deltas += 1;
      yield delta;
    }
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.setAttribute('xentree.ai.deltas', deltas);
    span.end();
  }
}

/** `provider` with each `generate` traced (`provider` itself when tracing is off). */
export function tracedProvider(provider: AiProvider): AiProvider {
  if (!tracingEnabled()) return provider;
  return { id: provider.id, name: provider.name, models: provider.models, defaultModel: provider.defaultModel, available: provider.available, generate: (messages, options) => tracedGenerate(provider, messages, options) };
}
