/** `anthropic`: the Messages API with streaming (`content_block_delta` text deltas). */
import { AppError } from '../errors.ts';
import { postForStream, providerError, readSse, withTimeout, type AiProvider, type ChatTurn, type GenerateOptions } from './provider.ts';

export interface AnthropicConfig {
  baseUrl: string;
  apiKey: string | null;
  models: string[];
  timeoutMs: number;
}

export function createAnthropicProvider(cfg: AnthropicConfig): AiProvider {
  return {
    id: 'anthropic',
    name: 'Anthropic',
    models: cfg.models,
    defaultModel: cfg.models[0] ?? null,
    available: cfg.apiKey !== null && cfg.models.length > 0,
    async *generate(messages: readonly ChatTurn[], options: GenerateOptions) {
      const signal = withTimeout(options.signal, cfg.timeoutMs);
      // The Messages API takes system prompts apart from the alternating user/assistant turns.
      const system = messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
      // It also wants user/assistant turns alternating and starting with the user: drop leading
      // assistant turns (a 50-message history window can start mid-exchange) and merge runs.
      const turns: { role: 'user' | 'assistant'; content: string }[] = [];
      for (const m of messages) {
        if (m.role === 'system' || (turns.length === 0 && m.role === 'assistant')) continue;
        const last = turns.at(-1);
        if (last && last.role === m.role) last.content = `${last.content}\n\n${m.content}`;
        else turns.push({ role: m.role, content: m.content });
      }
      const body = await postForStream(
        `${cfg.baseUrl.replace(/\/$/, '')}/v1/messages`,
        { 'anthropic-version': '2023-06-01', ...(cfg.apiKey ? { 'x-api-key': cfg.apiKey } : {}) },
        { model: options.model, max_tokens: 2048, stream: true, messages: turns, ...(system ? { system } : {}) },
        signal,
      );
      try {
        for await (const { event, data } of readSse(body)) {
          const parsed = JSON.parse(data) as { type?: string; delta?: { type?: string; text?: string }; error?: unknown };
          const type = parsed.type ?? event;
          if (type === 'error') throw new AppError('PROVIDER_ERROR', { cause: new Error(JSON.stringify(parsed.error ?? parsed)) });
          if (type === 'content_block_delta' && parsed.delta?.type === 'text_delta' && parsed.delta.text) yield parsed.delta.text;
          if (type === 'message_stop') return;
        }
      } catch (err) {
        throw providerError(err);
      }
    },
  };
}
