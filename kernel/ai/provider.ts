/**
 * The one AI provider interface (§4.17): `generate` streams text deltas with
 * cancellation and a timeout. Usage is counted the same way for every provider (`countTokens`),
 * so figures are comparable whatever the upstream reports.
 */
import { AppError } from '../errors.ts';
import type { ProviderId } from './provider-ids.ts';

export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface GenerateOptions {
  model: string;
  signal?: AbortSignal;
  /** Response-language hint, e.g. `en`. */
  userLanguage?: string | null;
  /** Ask for a reply that is one JSON object (OpenAI's JSON mode; the prompt asks the others). */
  json?: boolean;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface AiProvider {
  /** One of the registry's ids (provider.registry.ts is the single list of them). */
  id: Exclude<ProviderId, 'auto'>;
  name: string;
  models: string[];
  defaultModel: string | null;
  available: boolean;
  /** Streams the reply's text deltas. Throws AppError PROVIDER_ERROR on upstream failure. */
  generate(messages: readonly ChatTurn[], options: GenerateOptions): AsyncIterable<string>;
}

/** Tokens as words and punctuation marks: simple, deterministic, the same for every provider. */
export function countTokens(text: string): number {
  return text.match(/[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu)?.length ?? 0;
}

export function usageOf(messages: readonly ChatTurn[], reply: string): Usage {
  const prompt = messages.reduce((n, m) => n + countTokens(m.content), 0);
  const completion = countTokens(reply);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** PROVIDER_ERROR with the cause kept for logs (never shown to clients). */
export function providerError(cause: unknown): AppError {
  return cause instanceof AppError ? cause : new AppError('PROVIDER_ERROR', { cause });
}

/** A signal that fires on the caller's cancellation or after `timeoutMs`. */
export function withTimeout(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

/**
 * POSTs a streaming request and returns its SSE body.
 * @throws PROVIDER_ERROR on network failure, timeout or a non-2xx answer.
 */
export async function postForStream(url: string, headers: Record<string, string>, body: unknown, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers }, body: JSON.stringify(body), signal });
  } catch (err) {
    throw providerError(err);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => {});
    throw new AppError('PROVIDER_ERROR', { cause: new Error(`upstream status ${res.status}`) });
  }
  return res.body;
}

/**
 * Reads a Server-Sent Events body: yields each event's `event` name and joined `data` lines.
 * Used for OpenAI-compatible and Anthropic streams.
 */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string | null; data: string }> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event: string | null = null;
  let data: string[] = [];
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (line === '') {
        if (data.length > 0) yield { event, data: data.join('\n') };
        event = null;
        data = [];
      } else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      else if (line.startsWith('event:')) event = line.slice(6).trim();
    }
  }
  if (data.length > 0) yield { event, data: data.join('\n') };
}
