/**
 * `openai`: any OpenAI-compatible Chat Completions endpoint with SSE streaming — OpenAI, Azure
 * OpenAI, Ollama (`http://localhost:11434/v1`), vLLM, LM Studio (`http://localhost:1234/v1`).
 */
import { AppError } from '../errors.ts';
import { postForStream, providerError, readSse, withTimeout, type AiProvider, type ChatTurn, type GenerateOptions } from './provider.ts';

export interface OpenAiConfig {
  baseUrl: string;
  apiKey: string | null;
  models: string[];
  timeoutMs: number;
  /** Configured when a key or an explicit base URL (e.g. a local Ollama) is set. */
  configured: boolean;
}

export function createOpenAiProvider(cfg: OpenAiConfig): AiProvider {
  return {
    id: 'openai',
    name: 'OpenAI-compatible',
    models: cfg.models,
    defaultModel: cfg.models[0] ?? null,
    available: cfg.configured && cfg.models.length > 0,
    async *generate(messages: readonly ChatTurn[], options: GenerateOptions) {
      const signal = withTimeout(options.signal, cfg.timeoutMs);
      const body = await postForStream(
        `${cfg.baseUrl.replace(/\/$/, '')}/chat/completions`,
        cfg.apiKey ? { authorization: `Bearer ${cfg.apiKey}` } : {},
        { model: options.model, messages, stream: true, ...(options.json ? { response_format: { type: 'json_object' } } : {}) },
        signal,
      );
      try {
        for await (const { data } of readSse(body)) {
          if (data === '[DONE]') return;
          const parsed = JSON.parse(data) as { choices?: { delta?: { content?: string | null } }[]; error?: unknown };
          if (parsed.error) throw new AppError('PROVIDER_ERROR', { cause: new Error(JSON.stringify(parsed.error)) });
          const delta = parsed.choices?.[0]?.delta?.content;
          if (delta) yield delta;
        }
      } catch (err) {
        throw providerError(err);
      }
    },
  };
}
