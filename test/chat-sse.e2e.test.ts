/**
 * CONV-2 through REST (§3.2): the JSON reply with and without a stored conversation, its
 * errors, and the streaming extension — SSE event order and ids, `done` equal to the stored
 * message and to the JSON reply, errors answered before the stream, and CONV-2S resume with
 * `Last-Event-ID` after a dropped connection without a second generation. The slow streams come
 * from an OpenAI-compatible test server (test/fake-ai.ts) paced word by word.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, useTestStack } from './harness.ts';
import { apiKey, createKey, createOrg, person, scopeMissing, type Person } from './org-fixtures.ts';
import { chatSql, createConversation, type MessageBody } from './chat-fixtures.ts';
import { useFakeAi } from './fake-ai.ts';
import { deltas, messagesOf, openSse, parseSse, restCall, streamIds, until, type SseEvent } from './chat-stream-fixtures.ts';
import { coded, notFoundBody, TIMESTAMP, UNKNOWN_ID, UUID_V4, wire } from './assertions.ts';

const fake = useFakeAi();
  // `openai` is configured (for paced streams) but `auto` stays on the offline `local` provider.
const t = useTestStack(() => ({ env: { OPENAI_BASE_URL: `${fake.url}/v1`, OPENAI_API_KEY: 'sk-sse', OPENAI_MODELS: 'gpt-sse', DEFAULT_AI_PROVIDER: 'local' } }));
let alice: Person;
let bob: Person;

beforeAll(async () => {
  [alice, bob] = await Promise.all([person(t, 'sse_alice'), person(t, 'sse_bob')]);
});

const as = (p: Person, headers: Record<string, string> = {}) => ({ headers: { ...bearer(p.access), ...headers } });
const chat = (p: Person, json: unknown, headers: Record<string, string> = {}) => t.rest('POST', '/api/core/chat', { json, ...as(p, headers) });

const FACT = 'Kubelets run on every node.';
const QUESTION = 'What runs on every node?';
/** The `local` reply when nothing matches (§4.17: says that no model is configured and how). */
const noMatch = (question: string) =>
  `No language model is configured, so I can only answer from your own conversation and documents, and nothing there matches "${question}". ` +
  'To get full answers, configure a provider: set OPENAI_BASE_URL and OPENAI_API_KEY (OpenAI, Azure, Ollama, vLLM or LM Studio) or ANTHROPIC_API_KEY, and optionally DEFAULT_AI_PROVIDER.';
/** The `local` reply quoting the fact, the first message of the history. */
const GROUNDED = `From what you have already written, these passages match your question: 1. "${FACT}" (your conversation, message 1)`;
const UNKNOWN_PROVIDER = (provider: string) => ({ status: 400, body: coded('unknown_provider', 'Unknown or unavailable AI provider', { provider }) });

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}
interface ChatBody {
  content: string;
  provider: string;
  model: string;
  usage: Usage;
  conversation_id: string | null;
  message_id: string | null;
}

const stored = (m: Partial<MessageBody> & Pick<MessageBody, 'role' | 'content'>, conversationId: string) => ({
  id: expect.stringMatching(UUID_V4),
  conversation_id: conversationId,
  provider: null,
  model: null,
  created_at: expect.stringMatching(TIMESTAMP),
  ...m,
});

describe('CONV-2 POST /api/core/chat (JSON)', () => {
  it('answers from the request history without a conversation: nothing stored, provider echoed as "auto"', async () => {
    const history = [
      { role: 'user', content: FACT },
      { role: 'assistant', content: 'Noted.' },
    ];
    const res = await chat(alice, { message: QUESTION, conversation_history: history });
    expect(wire(res)).toEqual({
      status: 200,
      body: { content: GROUNDED, provider: 'auto', model: 'local-grounded-1', usage: expect.any(Object), conversation_id: null, message_id: null },
    });
    const { usage } = res.body as ChatBody;
    // Prompt: every history turn and the message; the same counting for the reply.
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
    const bare = (await chat(alice, { message: QUESTION })).body as ChatBody;
    expect(bare.content).toBe(noMatch(QUESTION));
    // "Kubelets run on every node." is 6 tokens and "Noted." 2: the history adds exactly 8.
    expect(usage.prompt_tokens - bare.usage.prompt_tokens).toBe(8);
    expect(usage.completion_tokens).toBeGreaterThan(0);
    expect(bare.usage.total_tokens).toBe(bare.usage.prompt_tokens + bare.usage.completion_tokens);
    // The explicit provider is echoed as given.
    expect((await chat(alice, { message: QUESTION, provider: 'local' })).body).toEqual({ ...bare, provider: 'local' });
  });

  it('with conversation_id: uses the stored history (ignoring the request\'s) and stores both turns', async () => {
    const conv = await createConversation(t, alice, { title: 'Nodes' });
    const first = await chat(alice, { message: FACT, conversation_id: conv.id });
    expect(wire(first)).toEqual({
      status: 200,
      body: { content: noMatch(FACT), provider: 'auto', model: 'local-grounded-1', usage: expect.any(Object), conversation_id: conv.id, message_id: expect.stringMatching(UUID_V4) },
    });
    // A request history that would match is ignored: the stored one is used.
    const second = await chat(alice, { message: QUESTION, conversation_id: conv.id, conversation_history: [{ role: 'user', content: 'Pods run on every node too.' }] });
    expect(wire(second)).toEqual({
      status: 200,
      body: { content: GROUNDED, provider: 'auto', model: 'local-grounded-1', usage: expect.any(Object), conversation_id: conv.id, message_id: expect.stringMatching(UUID_V4) },
    });
    const messages = await messagesOf(t.url, alice.access, conv.id);
    expect(messages).toEqual([
      stored({ role: 'user', content: FACT }, conv.id),
      stored({ id: (first.body as ChatBody).message_id ?? '', role: 'assistant', content: noMatch(FACT), provider: 'local', model: 'local-grounded-1' }, conv.id),
      stored({ role: 'user', content: QUESTION }, conv.id),
      stored({ id: (second.body as ChatBody).message_id ?? '', role: 'assistant', content: GROUNDED, provider: 'local', model: 'local-grounded-1' }, conv.id),
    ]);
    const list = (await t.rest('GET', '/api/core/conversations?limit=100', as(alice))).body as { items: { id: string; message_count: number; last_message_at: string }[] };
    expect(list.items.find((c) => c.id === conv.id)).toMatchObject({ message_count: 4, last_message_at: messages[3]?.created_at });
  });

  it('refuses an unknown or unconfigured provider: 400 unknown_provider with the provider, nothing stored', async () => {
    const conv = await createConversation(t, alice);
    expect(wire(await chat(alice, { message: 'hi', provider: 'nope', conversation_id: conv.id }))).toEqual(UNKNOWN_PROVIDER('nope'));
    expect(wire(await chat(alice, { message: 'hi', provider: 'anthropic' }))).toEqual(UNKNOWN_PROVIDER('anthropic'));
    expect(await messagesOf(t.url, alice.access, conv.id)).toEqual([]);
  });

  it("answers 404 for another user's or an unknown conversation", async () => {
    const theirs = await createConversation(t, bob);
    expect(wire(await chat(alice, { message: 'hi', conversation_id: theirs.id }))).toEqual({ status: 404, body: notFoundBody('Conversation') });
    expect(wire(await chat(alice, { message: 'hi', conversation_id: UNKNOWN_ID }))).toEqual({ status: 404, body: notFoundBody('Conversation') });
    expect(await messagesOf(t.url, bob.access, theirs.id)).toEqual([]);
  });

  it('validates the body: 422 for an empty message and for more than 50 history turns', async () => {
    expect(wire(await chat(alice, { message: '' }))).toEqual({
      status: 422,
      body: { detail: [{ type: 'string_too_short', loc: ['body', 'message'], msg: 'String should have at least 1 character', input: '', ctx: { min_length: 1 } }] },
    });
    const history = Array.from({ length: 51 }, (_, i) => ({ role: 'user', content: `turn ${i}` }));
    expect(wire(await chat(alice, { message: 'hi', conversation_history: history }))).toEqual({
      status: 422,
      body: { detail: [{ type: 'too_long', loc: ['body', 'conversation_history'], msg: 'List should have at most 50 items after validation, not 51', input: history, ctx: { field_type: 'List', max_length: 50, actual_length: 51 } }] },
    });
    expect((await chat(alice, { message: 'hi', conversation_history: history.slice(0, 50) })).status).toBe(200);
  });
});

/** Checks a complete stream's framing and returns its chunk count. */
function expectCompleteStream(events: SseEvent[]): number {
  const chunks = events.length - 2;
  expect(chunks).toBeGreaterThan(1);
  expect(events.map((e) => e.id)).toEqual(streamIds(chunks));
  expect(events.map((e) => e.event)).toEqual(['start', ...Array<string>(chunks).fill('chunk'), 'done']);
  for (const e of events.slice(1, -1)) expect(e.data).toEqual({ delta: expect.any(String) });
  return chunks;
}

describe('CONV-2 streaming (SSE)', () => {
  it.each<[string, Record<string, unknown>, Record<string, string>]>([
    ['"stream": true', { stream: true }, {}],
    ['Accept: text/event-stream', {}, { accept: 'text/event-stream' }],
  ])('streams with %s: start, chunks, done equal to the stored message', async (_, extra, headers) => {
    const conv = await createConversation(t, alice);
    await chat(alice, { message: FACT, conversation_id: conv.id });
    const res = await chat(alice, { message: QUESTION, conversation_id: conv.id, ...extra }, headers);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const { events } = parseSse(res.text);
    expectCompleteStream(events);
    const messages = await messagesOf(t.url, alice.access, conv.id);
    expect(messages).toHaveLength(4);
    expect(events[0]).toEqual({ event: 'start', id: '0', data: { stream_id: expect.stringMatching(UUID_V4), conversation_id: conv.id, provider: 'auto', model: 'local-grounded-1' } });
    expect(events.at(-1)?.data).toEqual({ content: GROUNDED, provider: 'auto', model: 'local-grounded-1', usage: expect.any(Object), conversation_id: conv.id, message_id: messages[3]?.id });
    expect(deltas(events)).toBe(GROUNDED);
    expect(messages.slice(2)).toEqual([stored({ role: 'user', content: QUESTION }, conv.id), stored({ id: messages[3]?.id, role: 'assistant', content: GROUNDED, provider: 'local', model: 'local-grounded-1' }, conv.id)]);
  });

  it('sends in `done` exactly what the JSON call answers for the same request', async () => {
    const json = { message: QUESTION, provider: 'local', conversation_history: [{ role: 'user', content: FACT }] };
    const plain = await chat(alice, json);
    const streamed = parseSse((await chat(alice, { ...json, stream: true })).text).events;
    expect(streamed[0]?.data).toEqual({ stream_id: expect.stringMatching(UUID_V4), conversation_id: null, provider: 'local', model: 'local-grounded-1' });
    expect(streamed.at(-1)).toEqual({ event: 'done', id: String(streamed.length - 1), data: plain.body });
  });

  it('runs two identical requests made at the same time as two generations, each a complete stream', async () => {
    const conv = await createConversation(t, alice);
    const words = ['One', ' two', ' three', ' four', ' five', ' six'];
    fake.mode = { kind: 'stream', words, delayMs: 30 };
    fake.requests.length = 0;
    const json = { message: 'Same words', provider: 'openai', conversation_id: conv.id, stream: true };
    const a = await openSse(t.url, 'POST', '/api/core/chat', alice.access, { json });
    expect((await a.next())?.event).toBe('start');
    expect((await a.next())?.event).toBe('chunk');
    const b = await openSse(t.url, 'POST', '/api/core/chat', alice.access, { json });
    await Promise.all([a.rest(), b.rest()]);
    const [streamA, streamB] = [a.seen, b.seen];
    for (const events of [streamA, streamB]) {
      expect(events.map((e) => e.id)).toEqual(streamIds(words.length));
      expect(deltas(events)).toBe(words.join(''));
    }
    const ids = [streamA, streamB].map((events) => (events[0]?.data as { stream_id: string }).stream_id);
    expect(new Set(ids).size).toBe(2);
    expect(fake.requests).toHaveLength(2);
    expect((await messagesOf(t.url, alice.access, conv.id)).map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
  });

  it('answers errors found before the stream starts with their normal status and body, not SSE', async () => {
    const theirs = await createConversation(t, bob);
    const cases: [unknown, { status: number; body: unknown }][] = [
      [{ message: 'hi', provider: 'nope', stream: true }, UNKNOWN_PROVIDER('nope')],
      [{ message: '', stream: true }, { status: 422, body: { detail: [{ type: 'string_too_short', loc: ['body', 'message'], msg: 'String should have at least 1 character', input: '', ctx: { min_length: 1 } }] } }],
      [{ message: 'hi', conversation_id: theirs.id, stream: true }, { status: 404, body: notFoundBody('Conversation') }],
    ];
    const variants: Record<string, string>[] = [{}, { accept: 'text/event-stream' }];
    for (const [json, expected] of cases) {
      for (const headers of variants) {
        const res = await chat(alice, json, headers);
        expect(wire(res)).toEqual(expected);
        expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      }
    }
    const anonymous = await t.rest('POST', '/api/core/chat', { json: { message: 'hi', stream: true } });
    expect(wire(anonymous)).toEqual({ status: 401, body: { detail: 'Not authenticated' } });
  });
});

describe('CONV-2S GET /api/core/chat/streams/{stream_id}', () => {
  const WORDS = Array.from({ length: 16 }, (_, i) => `${i === 0 ? '' : ' '}w${i + 1}`);

  it('resumes after a dropped connection with Last-Event-ID: the rest exactly once, no second generation', async () => {
    const conv = await createConversation(t, alice);
    fake.mode = { kind: 'stream', words: WORDS, delayMs: 40 };
    fake.requests.length = 0;
    const first = await openSse(t.url, 'POST', '/api/core/chat', alice.access, { json: { message: 'Count for me', provider: 'openai', conversation_id: conv.id, stream: true } });
    const start = await first.next();
    expect(start).toEqual({ event: 'start', id: '0', data: { stream_id: expect.stringMatching(UUID_V4), conversation_id: conv.id, provider: 'openai', model: 'gpt-sse' } });
    for (let i = 1; i <= 3; i++) expect(await first.next()).toEqual({ event: 'chunk', id: String(i), data: { delta: WORDS[i - 1] } });
    first.abort();
    const streamId = (start?.data as { stream_id: string }).stream_id;

    const resumed = await openSse(t.url, 'GET', `/api/core/chat/streams/${streamId}`, alice.access, { headers: { 'last-event-id': '3' } });
    const rest = await resumed.rest();
    expect(rest.map((e) => e.id)).toEqual(streamIds(WORDS.length).slice(4));
    expect(rest.slice(0, -1)).toEqual(WORDS.slice(3).map((w, i) => ({ event: 'chunk', id: String(i + 4), data: { delta: w } })));
    const content = WORDS.join('');
    expect(deltas([...first.seen, ...rest])).toBe(content);
    const messages = await messagesOf(t.url, alice.access, conv.id);
    expect(rest.at(-1)).toEqual({
      event: 'done',
      id: String(WORDS.length + 1),
      data: { content, provider: 'openai', model: 'gpt-sse', usage: expect.any(Object), conversation_id: conv.id, message_id: messages[1]?.id },
    });
    expect(messages).toEqual([stored({ role: 'user', content: 'Count for me' }, conv.id), stored({ id: messages[1]?.id, role: 'assistant', content, provider: 'openai', model: 'gpt-sse' }, conv.id)]);
    expect(fake.requests).toHaveLength(1);

    // Within the window the whole stream can be read again; still no new generation.
    const again = await t.rest('GET', `/api/core/chat/streams/${streamId}`, as(alice));
    expect(again.status).toBe(200);
    expect(parseSse(again.text).events).toEqual([start, ...first.seen.slice(1), ...rest]);
    expect(await messagesOf(t.url, alice.access, conv.id)).toHaveLength(2);
    expect(fake.requests).toHaveLength(1);
  });

  it('answers an empty event stream when nothing follows Last-Event-ID (a reconnect after `done`)', async () => {
    const events = parseSse((await chat(alice, { message: 'hi', stream: true })).text).events;
    const streamId = (events[0]?.data as { stream_id: string }).stream_id;
    const doneId = events.length - 1;
    for (const last of [doneId, doneId + 5]) {
      const res = await restCall(t.url, 'GET', `/api/core/chat/streams/${streamId}`, alice.access, undefined, { 'last-event-id': String(last) }, 5_000);
      expect({ status: res.status, type: res.headers.get('content-type'), text: res.text }).toEqual({ status: 200, type: 'text/event-stream; charset=utf-8', text: '' });
    }
  });

  it('ends a resumed stream at its terminal event even when Last-Event-ID is past it', async () => {
    fake.mode = { kind: 'stream', words: ['a', 'b', 'c'], delayMs: 40 };
    const reader = await openSse(t.url, 'POST', '/api/core/chat', alice.access, { json: { message: 'short', provider: 'openai', stream: true } });
    const streamId = ((await reader.next())?.data as { stream_id: string }).stream_id;
    reader.abort();
    // The stream is still running; a client claiming to have seen more than it will ever send.
    const res = await restCall(t.url, 'GET', `/api/core/chat/streams/${streamId}`, alice.access, undefined, { 'last-event-id': '10' }, 5_000);
    expect({ status: res.status, text: res.text }).toEqual({ status: 200, text: '' });
  });

  it('ends with an `error` event (not_found) when the conversation is deleted during the generation', async () => {
    const conv = await createConversation(t, alice);
    fake.mode = { kind: 'stream', words: WORDS.slice(0, 8), delayMs: 40 };
    const reader = await openSse(t.url, 'POST', '/api/core/chat', alice.access, { json: { message: 'Going away', provider: 'openai', conversation_id: conv.id, stream: true } });
    expect((await reader.next())?.event).toBe('start');
    expect((await t.rest('DELETE', `/api/core/conversations/${conv.id}`, as(alice))).status).toBe(204);
    const rest = await reader.rest();
    expect(rest.slice(0, -1)).toEqual(WORDS.slice(0, 8).map((w, i) => ({ event: 'chunk', id: String(i + 1), data: { delta: w } })));
    expect(rest.at(-1)).toEqual({ event: 'error', id: '9', data: notFoundBody('Conversation') });
    expect(wire(await t.rest('GET', `/api/core/conversations/${conv.id}/messages`, as(alice)))).toEqual({ status: 404, body: notFoundBody('Conversation') });
  });

  it('completes and stores the reply when the client leaves and never resumes', async () => {
    const conv = await createConversation(t, alice);
    fake.mode = { kind: 'stream', words: WORDS.slice(0, 6), delayMs: 30 };
    const reader = await openSse(t.url, 'POST', '/api/core/chat', alice.access, { json: { message: 'Leave early', provider: 'openai', conversation_id: conv.id }, headers: { accept: 'text/event-stream' } });
    expect((await reader.next())?.event).toBe('start');
    reader.abort();
    await until(async () => (await messagesOf(t.url, alice.access, conv.id)).length === 2, 10_000);
    expect((await messagesOf(t.url, alice.access, conv.id))[1]).toMatchObject({ role: 'assistant', content: WORDS.slice(0, 6).join('') });
  });

  it('refuses a malformed id (422), and an unknown, foreign or expired stream (404 Stream not found)', async () => {
    const malformed = await t.rest('GET', '/api/core/chat/streams/nope', as(alice));
    const error = 'invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `n` at 1';
    expect(wire(malformed)).toEqual({ status: 422, body: { detail: [{ type: 'uuid_parsing', loc: ['path', 'stream_id'], msg: `Input should be a valid UUID, ${error}`, input: 'nope', ctx: { error } }] } });

    const streamNotFound = { status: 404, body: notFoundBody('Stream') };
    expect(wire(await t.rest('GET', `/api/core/chat/streams/${UNKNOWN_ID}`, as(alice, { 'last-event-id': '0' })))).toEqual(streamNotFound);
    const own = parseSse((await chat(alice, { message: 'hi', stream: true })).text).events;
    const streamId = (own[0]?.data as { stream_id: string }).stream_id;
    const foreign = await t.rest('GET', `/api/core/chat/streams/${streamId}`, as(bob));
    expect(wire(foreign)).toEqual(streamNotFound);
    expect(foreign.headers.get('content-type')).toBe('application/json; charset=utf-8');

    // After `done` plus 60 s the stream cannot be resumed.
    expect((await t.rest('GET', `/api/core/chat/streams/${streamId}`, as(alice, { 'last-event-id': String(own.length - 2) }))).text).toBe(
      `event: done\nid: ${own.length - 1}\ndata: ${JSON.stringify(own.at(-1)?.data)}\n\n`,
    );
    await chatSql(t, `update "chat"."streams" set "finished_at" = now() - interval '61 seconds' where "id" = ?`, [streamId]);
    expect(wire(await t.rest('GET', `/api/core/chat/streams/${streamId}`, as(alice)))).toEqual(streamNotFound);
  });
});

describe('API keys (scopes)', () => {
  it('needs conversations:write to stream (refused before the stream) and conversations:read to resume', async () => {
    const org = await createOrg(t, alice, { name: 'SSE keys' });
    const [read, write] = await Promise.all([createKey(t, alice, org.id, ['conversations:read']), createKey(t, alice, org.id, ['conversations:write'])]);
    const post = (key: string) => t.rest('POST', '/api/core/chat', { json: { message: 'hi', stream: true }, headers: apiKey(key) });
    const refused = await post(read.key);
    expect(wire(refused)).toEqual({ status: 403, body: scopeMissing('conversations:write', ['conversations:read']) });
    expect(refused.headers.get('content-type')).toBe('application/json; charset=utf-8');

    const streamed = await post(write.key);
    expect(streamed.status).toBe(200);
    const events = parseSse(streamed.text).events;
    expect(events.at(-1)?.event).toBe('done');
    const streamId = (events[0]?.data as { stream_id: string }).stream_id;
    const resume = (headers: Record<string, string>) => t.rest('GET', `/api/core/chat/streams/${streamId}`, { headers });
    expect(wire(await resume(apiKey(write.key)))).toEqual({ status: 403, body: scopeMissing('conversations:read', ['conversations:write']) });
    // The key acts for its creator: the stream is hers, through the key or her token.
    for (const headers of [apiKey(read.key), bearer(alice.access)]) {
      const res = await resume(headers);
      expect(res.status).toBe(200);
      expect(parseSse(res.text).events).toEqual(events);
    }
    expect(wire(await t.rest('GET', '/api/core/providers', { headers: apiKey(write.key) }))).toEqual({ status: 403, body: scopeMissing('conversations:read', ['conversations:write']) });
    expect((await t.rest('GET', '/api/core/providers', { headers: apiKey(read.key) })).status).toBe(200);
  });
});
