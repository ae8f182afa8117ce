/**
 * Structured replies: runs a provider to the end of its reply and reads it as one strict JSON
 * value checked by a zod schema. Used where a service needs a verdict rather than prose (grading,
 * generated exercises). Anything else — prose around the JSON, a truncated object, a field of the
 * wrong type — is the provider failing, PROVIDER_ERROR (502 `provider_error`).
 */
import type { z } from 'zod';
import { AppError } from '../errors.ts';
import { providerError, type AiProvider, type ChatTurn } from './provider.ts';

/** A reply that is exactly one JSON value, or inside one ```json fence (models often add one). */
function parseStrict(reply: string): unknown {
  const trimmed = reply.trim();
  const fenced = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/.exec(trimmed);
  return JSON.parse(fenced?.[1] ?? trimmed) as unknown;
}

/**
 * Asks `provider` for a JSON reply and validates it. The reply text is never put into the error
 * (it may quote what the prompt carried): the cause names only the schema paths that failed.
 * @throws PROVIDER_ERROR on an upstream failure, a timeout, or a reply that is not valid JSON for `schema`
 */
export async function generateJson<T>(provider: AiProvider, model: string, messages: readonly ChatTurn[], schema: z.ZodType<T>, signal?: AbortSignal): Promise<T> {
  let reply = '';
  try {
    for await (const delta of provider.generate(messages, { model, signal, json: true })) reply += delta;
  } catch (err) {
    throw providerError(err);
  }
  let value: unknown;
  try {
    value = parseStrict(reply);
  } catch {
    throw new AppError('PROVIDER_ERROR', { cause: new Error(`${provider.id}: the reply is not JSON (${reply.length} characters)`) });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const paths = parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ');
    throw new AppError('PROVIDER_ERROR', { cause: new Error(`${provider.id}: the JSON reply does not match the expected shape at ${paths}`) });
  }
  return parsed.data;
}
