/**
 * The remote AI providers end to end (§4.17, CONV-2): `openai` (Chat Completions with SSE)
 * and `anthropic` (Messages API streaming) against the OpenAI-/Anthropic-compatible test server
 * of test/fake-ai.ts, through the gateway's REST and GraphQL. The prompt carries the stored
 * history; upstream failures and timeouts give 502 `provider_error` (or an `error` event) and
 * store nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, useTestStack } from './harness.ts';
import { person, type Person } from './org-fixtures.ts';
import { appendTurns, createConversation, type MessageBody } from './chat-fixtures.ts';
import { useFakeAi } from './fake-ai.ts';
import { collect, messagesOf, parseSse, wsClient } from './chat-stream-fixtures.ts';
import { coded, UUID_V4, wire } from './assertions.ts';

const fake = useFakeAi();
const t = useTestStack(() => ({
  env: {
    OPENAI_BASE_URL: `${fake.url}/v1`,
    OPENAI_API_KEY: 'sk-prov',
    OPENAI_MODELS: 'gpt-prov',
    ANTHROPIC_BASE_URL: fake.url,
    ANTHROPIC_API_KEY: 'ak-prov',
    ANTHROPIC_MODELS: 'claude-prov',
    DEFAULT_AI_PROVIDER: 'local',
    AI_TIMEOUT_MS: '300',
  },
}));
const clients = t.clients;
let alice: Person;

beforeAll(async () => {
  alice = await person(t, 'prov_alice');
});

const PROVIDER_ERROR = coded('provider_error', 'AI provider request failed');
const chat = (json: unknown, headers: Record<string, string> = {}) => t.rest('POST', '/api/core/chat', { json, headers: { ...bearer(alice.access), ...headers } });

const SYSTEM = 'Answer in the language "fr".';
const HISTORY = [
  { role: 'user' as const, content: 'My cat is Tom.' },
  { role: 'assistant' as const, content: 'Nice name.', provider: 'local', model: 'local-grounded-1' },
];
const QUESTION = 'What is my cat called?';

/** What each provider's API receives for the stored history plus the question, in French. */
const upstream = {
  openai: {
    path: '/v1/chat/completions',
    headers: { authorization: 'Bearer sk-prov', accept: 'text/event-stream' },
    body: (model: string) => ({
      model,
      messages: [{ role: 'system', content: SYSTEM }, ...HISTORY.map(({ role, content }) => ({ role, content })), { role: 'user', content: QUESTION }],
      stream: true,
    }),
  },
  anthropic: {
    path: '/v1/messages',
    headers: { 'x-api-key': 'ak-prov', 'anthropic-version': '2023-06-01', accept: 'text/event-stream' },
    body: (model: string) => ({
      model,
      max_tokens: 2048,
      stream: true,
      messages: [...HISTORY.map(({ role, content }) => ({ role, content })), { role: 'user', content: QUESTION }],
      system: SYSTEM,
    }),
  },
};

const PROVIDERS = [
  ['openai', 'gpt-prov'],
  ['anthropic', 'claude-prov'],
] as const;

/** A conversation of alice with the stored history. */
async function conversation(): Promise<{ id: string; before: MessageBody[] }> {
  const conv = await createConversation(t, alice);
  const before = await appendTurns(t, alice, conv.id, HISTORY);
  return { id: conv.id, before };
}

async function messageCount(conversationId: string): Promise<number> {
  const list = (await t.rest('GET', '/api/core/conversations?limit=100', { headers: bearer(alice.access) })).body as { items: { id: string; message_count: number }[] };
  return list.items.find((c) => c.id === conversationId)?.message_count ?? -1;
}

describe.each(PROVIDERS)('the %s provider', (provider, model) => {
  it('sends the stored history and the question, and stores the reply (JSON)', async () => {
    const conv = await conversation();
    fake.mode = { kind: 'stream', words: ['Hello', ' from', ' the', ' model.'] };
    fake.requests.length = 0;
    const res = await chat({ message: QUESTION, provider, conversation_id: conv.id, user_language: 'fr', conversation_history: [{ role: 'user', content: 'ignored' }] });
    const messages = await messagesOf(t.url, alice.access, conv.id);
    // Tokens: system 8, history 5 + 3, question 6; reply "Hello from the model." 5.
    expect(wire(res)).toEqual({
      status: 200,
      body: { content: 'Hello from the model.', provider, model, usage: { prompt_tokens: 22, completion_tokens: 5, total_tokens: 27 }, conversation_id: conv.id, message_id: messages[3]?.id },
    });
    const expected = upstream[provider];
    expect(fake.requests).toEqual([{ path: expected.path, headers: expect.objectContaining(expected.headers), body: expected.body(model) }]);
    expect(messages.slice(0, 2)).toEqual(conv.before);
    expect(messages.slice(2)).toEqual([
      expect.objectContaining({ role: 'user', content: QUESTION, provider: null, model: null }),
      expect.objectContaining({ role: 'assistant', content: 'Hello from the model.', provider, model }),
    ]);
  });

  it('streams the upstream chunks as SSE events and stores the reply', async () => {
    const conv = await conversation();
    fake.mode = { kind: 'stream', words: ['Il', " s'appelle", ' Tom.'] };
    fake.requests.length = 0;
    const res = await chat({ message: QUESTION, provider, conversation_id: conv.id, user_language: 'fr', stream: true });
    expect(res.status).toBe(200);
    const { events } = parseSse(res.text);
    const messages = await messagesOf(t.url, alice.access, conv.id);
    expect(events).toEqual([
      { event: 'start', id: '0', data: { stream_id: expect.stringMatching(UUID_V4), conversation_id: conv.id, provider, model } },
      { event: 'chunk', id: '1', data: { delta: 'Il' } },
      { event: 'chunk', id: '2', data: { delta: " s'appelle" } },
      { event: 'chunk', id: '3', data: { delta: ' Tom.' } },
      {
        event: 'done',
        id: '4',
        data: { content: "Il s'appelle Tom.", provider, model, usage: { prompt_tokens: 22, completion_tokens: 6, total_tokens: 28 }, conversation_id: conv.id, message_id: messages[3]?.id },
      },
    ]);
    expect(fake.requests).toEqual([expect.objectContaining({ path: upstream[provider].path, body: upstream[provider].body(model) })]);
    expect(messages[3]).toMatchObject({ role: 'assistant', content: "Il s'appelle Tom.", provider, model });
  });

  it('answers 502 provider_error for an upstream 500 and stores nothing', async () => {
    const conv = await conversation();
    fake.mode = { kind: 'status', status: 500 };
    fake.requests.length = 0;
    expect(wire(await chat({ message: QUESTION, provider, conversation_id: conv.id }))).toEqual({ status: 502, body: PROVIDER_ERROR });
    expect(fake.requests).toHaveLength(1);
    expect(await messagesOf(t.url, alice.access, conv.id)).toEqual(conv.before);
    expect(await messageCount(conv.id)).toBe(2);
  });

  it('answers 502 provider_error when the upstream does not answer within AI_TIMEOUT_MS', async () => {
    const conv = await conversation();
    fake.mode = { kind: 'hang' };
    const started = Date.now();
    expect(wire(await chat({ message: QUESTION, provider, conversation_id: conv.id }))).toEqual({ status: 502, body: PROVIDER_ERROR });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await messagesOf(t.url, alice.access, conv.id)).toEqual(conv.before);
    expect(await messageCount(conv.id)).toBe(2);
  });

  it('streams an `error` event for an upstream failure and stores nothing', async () => {
    const conv = await conversation();
    fake.mode = { kind: 'status', status: 500 };
    const res = await chat({ message: QUESTION, provider, conversation_id: conv.id, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(parseSse(res.text).events).toEqual([
      { event: 'start', id: '0', data: { stream_id: expect.stringMatching(UUID_V4), conversation_id: conv.id, provider, model } },
      { event: 'error', id: '1', data: PROVIDER_ERROR },
    ]);
    expect(await messagesOf(t.url, alice.access, conv.id)).toEqual(conv.before);
  });

  it('streams an `error` event after the chunks already sent when the upstream times out mid-reply', async () => {
    const conv = await conversation();
    // 40 words 40 ms apart cannot finish within the 300 ms timeout.
    fake.mode = { kind: 'stream', words: Array.from({ length: 40 }, (_, i) => ` w${i}`), delayMs: 40 };
    const res = await chat({ message: QUESTION, provider, conversation_id: conv.id, stream: true });
    const { events } = parseSse(res.text);
    const chunks = events.length - 2;
    expect(chunks).toBeGreaterThan(0);
    expect(chunks).toBeLessThan(40);
    expect(events.map((e) => [e.event, e.id])).toEqual([['start', '0'], ...Array.from({ length: chunks }, (_, i) => ['chunk', String(i + 1)]), ['error', String(chunks + 1)]]);
    expect(events.at(-1)?.data).toEqual(PROVIDER_ERROR);
    expect(await messagesOf(t.url, alice.access, conv.id)).toEqual(conv.before);
    expect(await messageCount(conv.id)).toBe(2);
  });
});

describe('the prompt of a stored conversation', () => {
  it('carries only the last 50 stored messages, oldest first, then the question', async () => {
    const conv = await createConversation(t, alice);
    const turns = Array.from({ length: 52 }, (_, i) =>
      i % 2 === 0 ? { role: 'user' as const, content: `question ${i}` } : { role: 'assistant' as const, content: `answer ${i}`, provider: 'openai', model: 'gpt-prov' },
    );
    await appendTurns(t, alice, conv.id, turns);
    fake.mode = { kind: 'stream', words: ['ok'] };
    fake.requests.length = 0;
    expect((await chat({ message: 'And now?', provider: 'openai', conversation_id: conv.id })).status).toBe(200);
    expect(fake.requests.map((r) => r.body)).toEqual([
      { model: 'gpt-prov', messages: [...turns.slice(2).map(({ role, content }) => ({ role, content })), { role: 'user', content: 'And now?' }], stream: true },
    ]);
    expect(await messageCount(conv.id)).toBe(54);
  });
});

describe('provider failures through GraphQL', () => {
  it('the chat mutation fails with PROVIDER_ERROR (502)', async () => {
    const conv = await conversation();
    fake.mode = { kind: 'status', status: 503 };
    const res = await t.gql('mutation($i: ChatInput!) { chat(input: $i) { content } }', { i: { message: QUESTION, provider: 'openai', conversationId: conv.id } }, bearer(alice.access));
    expect(res.body).toEqual({ data: null, errors: [{ message: 'AI provider request failed', path: ['chat'], extensions: { code: 'PROVIDER_ERROR', status: 502, serviceName: 'chat' } }] });
    expect(await messagesOf(t.url, alice.access, conv.id)).toEqual(conv.before);
  });

  it('chatStream ends with an ERROR event carrying provider_error', async () => {
    const conv = await conversation();
    fake.mode = { kind: 'status', status: 500 };
    const c = wsClient(t.url, alice.access);
    clients.push(c);
    const results = await collect(c, 'subscription($i: ChatInput!) { chatStream(input: $i) { seq type delta response { content } error { code message } } }', {
      i: { message: QUESTION, provider: 'anthropic', conversationId: conv.id },
    });
    expect(results).toEqual([
      { data: { chatStream: { seq: 0, type: 'START', delta: null, response: null, error: null } } },
      { data: { chatStream: { seq: 1, type: 'ERROR', delta: null, response: null, error: { code: 'provider_error', message: 'AI provider request failed' } } } },
    ]);
    expect(await messagesOf(t.url, alice.access, conv.id)).toEqual(conv.before);
  });
});
