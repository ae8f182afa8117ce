import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { startFakeAi, type FakeAi } from '../../test/fake-ai.ts';
import { createOpenAiProvider } from './openai.provider.ts';
import { generateJson } from './structured.ts';

let fake: FakeAi;
beforeAll(async () => {
  fake = await startFakeAi();
});
afterAll(async () => {
  await fake.close();
});

const provider = () => createOpenAiProvider({ baseUrl: `${fake.url}/v1`, apiKey: 'sk-test', models: ['gpt-test'], timeoutMs: 500, configured: true });
const verdict = z.object({ score: z.number().int().min(0).max(100) });
const ask = () => generateJson(provider(), 'gpt-test', [{ role: 'user', content: 'Grade: "cat"' }], verdict);

async function failure(p: Promise<unknown>): Promise<{ code: string; cause: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return { code: err.code, cause: err.cause instanceof Error ? err.cause.message : String(err.cause) };
    throw err;
  }
  throw new Error('expected a failure');
}

describe('generateJson', () => {
  it('joins the streamed reply, parses it and asks OpenAI for JSON mode', async () => {
    fake.mode = { kind: 'stream', words: ['{"sco', 're": 8', '0}'] };
    fake.requests.length = 0;
    expect(await ask()).toEqual({ score: 80 });
    expect(fake.requests[0]?.body).toMatchObject({ model: 'gpt-test', stream: true, response_format: { type: 'json_object' } });
  });

  it('accepts one ```json fence around the object', async () => {
    fake.mode = { kind: 'stream', words: ['```json\n{"score": 5}\n```'] };
    expect(await ask()).toEqual({ score: 5 });
  });

  it.each([
    ['prose', ['The score is 80.'], 'openai: the reply is not JSON (16 characters)'],
    ['prose around the JSON', ['Sure! {"score": 80}'], 'openai: the reply is not JSON (19 characters)'],
    ['a wrong type', ['{"score": "80"}'], 'openai: the JSON reply does not match the expected shape at score'],
    ['a value out of range', ['{"score": 101}'], 'openai: the JSON reply does not match the expected shape at score'],
  ])('%s is PROVIDER_ERROR, and the cause never repeats the reply', async (_, words, cause) => {
    fake.mode = { kind: 'stream', words };
    expect(await failure(ask())).toEqual({ code: 'PROVIDER_ERROR', cause });
  });

  it('an upstream failure is PROVIDER_ERROR', async () => {
    fake.mode = { kind: 'status', status: 503 };
    expect((await failure(ask())).code).toBe('PROVIDER_ERROR');
  });
});
