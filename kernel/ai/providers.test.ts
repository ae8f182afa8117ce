import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { startFakeAi, type FakeAi } from '../../test/fake-ai.ts';
import { createOpenAiProvider } from './openai.provider.ts';
import { createAnthropicProvider } from './anthropic.provider.ts';
import { createLocalProvider, localReply } from './local.provider.ts';
import { countTokens, usageOf, type AiProvider, type ChatTurn } from './provider.ts';

let fake: FakeAi;
beforeAll(async () => {
  fake = await startFakeAi();
});
afterAll(async () => {
  await fake.close();
});

async function drain(provider: AiProvider, messages: ChatTurn[], model: string): Promise<string[]> {
  const out: string[] = [];
  for await (const d of provider.generate(messages, { model })) out.push(d);
  return out;
}

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
  throw new Error('expected a failure');
}

const messages: ChatTurn[] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hi there' },
];

describe('openai provider (against a compatible test server)', () => {
  const provider = () => createOpenAiProvider({ baseUrl: `${fake.url}/v1`, apiKey: 'sk-test', models: ['gpt-test'], timeoutMs: 500, configured: true });

  it('streams deltas and sends the model, messages and key', async () => {
    fake.mode = { kind: 'stream', words: ['Hello', ' from', ' the', ' model.'] };
    fake.requests.length = 0;
    expect(await drain(provider(), messages, 'gpt-test')).toEqual(['Hello', ' from', ' the', ' model.']);
    expect(fake.requests).toEqual([
      { path: '/v1/chat/completions', headers: expect.objectContaining({ authorization: 'Bearer sk-test' }), body: { model: 'gpt-test', messages, stream: true } },
    ]);
  });

  it('turns an upstream 500 and a timeout into PROVIDER_ERROR', async () => {
    fake.mode = { kind: 'status', status: 500 };
    expect(await failure(drain(provider(), messages, 'gpt-test'))).toBe('PROVIDER_ERROR');
    fake.mode = { kind: 'hang' };
    expect(await failure(drain(provider(), messages, 'gpt-test'))).toBe('PROVIDER_ERROR');
  });

  it('is available only when configured', () => {
    expect(createOpenAiProvider({ baseUrl: 'x', apiKey: null, models: ['m'], timeoutMs: 1, configured: false }).available).toBe(false);
    expect(provider().available).toBe(true);
  });
});

describe('anthropic provider (against a compatible test server)', () => {
  const provider = () => createAnthropicProvider({ baseUrl: fake.url, apiKey: 'ak-test', models: ['claude-test'], timeoutMs: 500 });

  it('streams text deltas and sends the system prompt apart', async () => {
    fake.mode = { kind: 'stream', words: ['Hi', ' you'] };
    fake.requests.length = 0;
    expect(await drain(provider(), messages, 'claude-test')).toEqual(['Hi', ' you']);
    expect(fake.requests[0]).toEqual({
      path: '/v1/messages',
      headers: expect.objectContaining({ 'x-api-key': 'ak-test', 'anthropic-version': '2023-06-01' }),
      body: { model: 'claude-test', max_tokens: 2048, stream: true, messages: [{ role: 'user', content: 'Hi there' }], system: 'Be brief.' },
    });
  });

  it('sends alternating turns starting with the user, as the Messages API requires', async () => {
    fake.mode = { kind: 'stream', words: ['ok'] };
    fake.requests.length = 0;
    const history: ChatTurn[] = [
      { role: 'assistant', content: 'earlier reply' },
      { role: 'user', content: 'first' },
      { role: 'user', content: 'second' },
      { role: 'assistant', content: 'answer' },
      { role: 'user', content: 'third' },
    ];
    await drain(provider(), history, 'claude-test');
    expect((fake.requests[0]?.body as { messages: unknown }).messages).toEqual([
      { role: 'user', content: 'first\n\nsecond' },
      { role: 'assistant', content: 'answer' },
      { role: 'user', content: 'third' },
    ]);
  });

  it('turns an upstream error into PROVIDER_ERROR', async () => {
    fake.mode = { kind: 'status', status: 529 };
    expect(await failure(drain(provider(), messages, 'claude-test'))).toBe('PROVIDER_ERROR');
  });
});

describe('local provider', () => {
  it('quotes and cites matching passages of the conversation, deterministically', async () => {
    const history: ChatTurn[] = [
      { role: 'user', content: 'My cat Tom loves sardines. The weather is nice.' },
      { role: 'assistant', content: 'Noted.' },
      { role: 'user', content: 'What does my cat love?' },
    ];
    const reply = localReply(history);
    expect(reply).toBe('From what you have already written, these passages match your question: 1. "My cat Tom loves sardines." (your conversation, message 1)');
    const streamed = await drain(createLocalProvider(), history, 'local-grounded-1');
    expect(streamed.join('')).toBe(reply);
    expect(streamed.length).toBeGreaterThan(5);
  });

  it('says plainly that no model is configured when nothing matches', () => {
    expect(localReply([{ role: 'user', content: 'Quantum chromodynamics?' }])).toMatch(/^No language model is configured, .* nothing there matches "Quantum chromodynamics\?"\. To get full answers, configure a provider/);
  });

  it('counts usage the same way for every provider', () => {
    expect(countTokens('Hello, world!')).toBe(4);
    expect(usageOf([{ role: 'user', content: 'Hi there' }], 'Hello, world!')).toEqual({ prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 });
  });
});
