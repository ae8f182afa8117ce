/**
 * Streamed AI replies through the gateway with real graphql-ws clients (issue 5, §3.2):
 * `chatStream` events in order with identity's `user` filled in on each, `messageAdded` seen by a
 * second connection, errors with their codes, `chatStreamResume` without a new generation, and
 * CONV-1 (which providers are available, and where `auto` goes) with and without configuration.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { bearer, startTestStack, type TestStack } from './harness.ts';
import { createKey, createOrg, person, type Person } from './org-fixtures.ts';
import { appendTurns, createConversation } from './chat-fixtures.ts';
import { startFakeAi, type FakeAi } from './fake-ai.ts';
import { collect, firstWhileProbing, messagesOf, wsClient } from './chat-stream-fixtures.ts';
import { messageChannel } from '../subgraphs/chat/message.events.ts';
import { TIMESTAMP, UNKNOWN_ID, UUID_V4, wire } from './assertions.ts';

let t: TestStack;
let alice: Person;
let bob: Person;
const clients: Client[] = [];

beforeAll(async () => {
  t = await startTestStack();
  [alice, bob] = await Promise.all([person(t, 'gqls_alice'), person(t, 'gqls_bob')]);
});

afterAll(async () => {
  for (const c of clients) await c.dispose();
  await t?.close();
});

function client(p: Person, base = t.url): Client {
  const c = wsClient(base, p.access);
  clients.push(c);
  return c;
}

const EVENT = `streamId seq type delta conversationId provider model
  response { content provider model usage { promptTokens completionTokens totalTokens } conversationId messageId message { id role content } }
  error { code message } user { id username }`;
const CHAT_STREAM = `subscription($input: ChatInput!) { chatStream(input: $input) { ${EVENT} } }`;
const RESUME = `subscription($id: ID!, $after: Int) { chatStreamResume(streamId: $id, afterSeq: $after) { ${EVENT} } }`;

interface Event {
  streamId: string;
  seq: number;
  type: 'START' | 'CHUNK' | 'DONE' | 'ERROR';
  delta: string | null;
  response: { content: string; messageId: string | null } | null;
}
const eventsOf = (results: unknown[], field: string): Event[] => results.map((r) => (r as { data: Record<string, Event> }).data[field] as Event);
/** A failed subscription: one result with the chat subgraph's error (as over HTTP), then completion. */
const failure = (field: string, message: string, code: string, status: number, extra: Record<string, unknown> = {}) => [
  { data: null, errors: [{ message, path: [field], extensions: { code, status, ...extra, serviceName: 'chat' } }] },
];

const FACT = 'Kubelets run on every node.';
const QUESTION = 'What runs on every node?';
const GROUNDED = `From what you have already written, these passages match your question: 1. "${FACT}" (your conversation, message 1)`;

describe('chatStream through the gateway', () => {
  it('streams START, CHUNK 1..n and DONE in order; the deltas are the stored reply; user is filled on every event', async () => {
    const conv = await createConversation(t, alice, { title: 'Nodes' });
    await appendTurns(t, alice, conv.id, [{ role: 'user', content: FACT }]);
    const results = await collect(client(alice), CHAT_STREAM, { input: { message: QUESTION, conversationId: conv.id } });
    const events = eventsOf(results, 'chatStream');
    const n = events.length - 2;
    expect(n).toBeGreaterThan(1);
    expect(events.map((e) => [e.seq, e.type])).toEqual([[0, 'START'], ...Array.from({ length: n }, (_, i) => [i + 1, 'CHUNK']), [n + 1, 'DONE']]);
    const streamId = events[0]?.streamId ?? '';
    expect(streamId).toMatch(UUID_V4);
    const user = { id: alice.id, username: alice.username };
    expect(results[0]).toEqual({
      data: { chatStream: { streamId, seq: 0, type: 'START', delta: null, conversationId: conv.id, provider: 'auto', model: 'local-grounded-1', response: null, error: null, user } },
    });
    for (const [i, r] of results.slice(1, -1).entries()) {
      expect(r).toEqual({ data: { chatStream: { streamId, seq: i + 1, type: 'CHUNK', delta: expect.any(String), conversationId: null, provider: null, model: null, response: null, error: null, user } } });
    }
    const content = events.map((e) => e.delta ?? '').join('');
    expect(content).toBe(GROUNDED);
    const messages = await messagesOf(t.url, alice.access, conv.id);
    expect(messages.map((m) => [m.role, m.content, m.provider, m.model])).toEqual([
      ['user', FACT, null, null],
      ['user', QUESTION, null, null],
      ['assistant', GROUNDED, 'local', 'local-grounded-1'],
    ]);
    const messageId = messages[2]?.id;
    expect(results.at(-1)).toEqual({
      data: {
        chatStream: {
          streamId,
          seq: n + 1,
          type: 'DONE',
          delta: null,
          conversationId: conv.id,
          provider: null,
          model: null,
          response: { content, provider: 'auto', model: 'local-grounded-1', usage: expect.any(Object), conversationId: conv.id, messageId, message: { id: messageId, role: 'ASSISTANT', content } },
          error: null,
          user,
        },
      },
    });
    // The GraphQL usage is the REST one, renamed.
    const rest = await t.rest('POST', '/api/core/chat', { json: { message: QUESTION, conversation_history: [{ role: 'user', content: FACT }] }, headers: bearer(alice.access) });
    const usage = (rest.body as { usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } }).usage;
    expect((results.at(-1) as { data: { chatStream: { response: { usage: unknown } } } }).data.chatStream.response.usage).toEqual({
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
      totalTokens: usage.total_tokens,
    });
  });

  it('never shares a generation between identical subscriptions: each is its own stream', async () => {
    const conv = await createConversation(t, alice);
    const input = { input: { message: 'Twice the same', conversationId: conv.id } };
    const [a, b] = await Promise.all([collect(client(alice), CHAT_STREAM, input), collect(client(alice), CHAT_STREAM, input)]);
    const [ea, eb] = [eventsOf(a, 'chatStream'), eventsOf(b, 'chatStream')];
    for (const events of [ea, eb]) {
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
      expect(events.at(-1)?.type).toBe('DONE');
    }
    expect(ea[0]?.streamId).not.toBe(eb[0]?.streamId);
    const messages = await messagesOf(t.url, alice.access, conv.id);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(new Set([ea.at(-1)?.response?.messageId, eb.at(-1)?.response?.messageId])).toEqual(new Set([messages[1]?.id, messages[3]?.id]));
  });

  it('shows both new messages to a second connection subscribed to messageAdded', async () => {
    const conv = await createConversation(t, alice);
    const watcher = client(alice).iterate({
      query: 'subscription($c: ID!) { messageAdded(conversationId: $c) { id conversationId role content provider model createdAt user { id username } } }',
      variables: { c: conv.id },
    });
    // The subscription has no acknowledgement: probe the channel until the watcher receives.
    const probe = { id: UNKNOWN_ID, conversationId: conv.id, userId: alice.id, role: 'user', content: 'probe', provider: null, model: null, createdAt: new Date().toISOString() };
    const first = await firstWhileProbing(watcher, () => t.stack.pubsub.publish(messageChannel(conv.id), probe));
    expect(first.value).toEqual({ data: { messageAdded: expect.objectContaining({ id: UNKNOWN_ID, content: 'probe' }) } });

    const results = await collect(client(alice), CHAT_STREAM, { input: { message: 'Hello there', conversationId: conv.id } });
    expect(eventsOf(results, 'chatStream').at(-1)?.type).toBe('DONE');
    // The probe loop may have published more than one probe before the first arrived: skip them.
    const seen: unknown[] = [];
    while (seen.length < 2) {
      const r = (await watcher.next()).value as { data: { messageAdded: { id: string } } };
      if (r.data.messageAdded.id !== UNKNOWN_ID) seen.push(r);
    }
    await watcher.return?.();
    const user = { id: alice.id, username: alice.username };
    const messages = await messagesOf(t.url, alice.access, conv.id);
    expect(messages).toHaveLength(2);
    expect(seen).toEqual(
      messages.map((m) => ({
        data: { messageAdded: { id: m.id, conversationId: conv.id, role: m.role.toUpperCase(), content: m.content, provider: m.provider, model: m.model, createdAt: expect.stringMatching(TIMESTAMP), user } },
      })),
    );
    expect(seen.map((s) => (s as { data: { messageAdded: { createdAt: string } } }).data.messageAdded.createdAt)).toEqual(messages.map((m) => m.created_at));
  });

  it('refuses messageAdded on another user\'s conversation with NOT_FOUND', async () => {
    const theirs = await createConversation(t, bob);
    const results = await collect(client(alice), 'subscription($c: ID!) { messageAdded(conversationId: $c) { id } }', { c: theirs.id });
    expect(results).toEqual(failure('messageAdded', 'Conversation not found', 'NOT_FOUND', 404));
  });

  it('fails with UNKNOWN_PROVIDER for an unknown or unavailable provider', async () => {
    for (const provider of ['nope', 'openai']) {
      const results = await collect(client(alice), CHAT_STREAM, { input: { message: 'hi', provider } });
      expect(results).toEqual(failure('chatStream', 'Unknown or unavailable AI provider', 'UNKNOWN_PROVIDER', 400, { provider }));
    }
  });

  it("fails with NOT_FOUND for another user's conversation, storing nothing", async () => {
    const theirs = await createConversation(t, bob);
    const results = await collect(client(alice), CHAT_STREAM, { input: { message: 'hi', conversationId: theirs.id } });
    expect(results).toEqual(failure('chatStream', 'Conversation not found', 'NOT_FOUND', 404));
    expect(await messagesOf(t.url, bob.access, theirs.id)).toEqual([]);
  });

  it('resumes a stream after afterSeq with only the later events and no new generation', async () => {
    const conv = await createConversation(t, alice);
    await appendTurns(t, alice, conv.id, [{ role: 'user', content: FACT }]);
    const original = await collect(client(alice), CHAT_STREAM, { input: { message: QUESTION, conversationId: conv.id } });
    const streamId = eventsOf(original, 'chatStream')[0]?.streamId ?? '';
    const count = (await messagesOf(t.url, alice.access, conv.id)).length;
    expect(count).toBe(3);

    const resumed = await collect(client(alice), RESUME, { id: streamId, after: 2 });
    const later = original.slice(3).map((r) => ({ data: { chatStreamResume: (r as { data: { chatStream: unknown } }).data.chatStream } }));
    expect(later.length).toBeGreaterThan(1);
    expect(resumed).toEqual(later);
    // Without afterSeq: the whole stream, START included.
    expect(eventsOf(await collect(client(alice), RESUME, { id: streamId }), 'chatStreamResume')).toEqual(eventsOf(original, 'chatStream'));
    // After the last event (or past it) there is nothing to send: the subscription completes.
    for (const after of [original.length - 1, original.length + 3]) expect(await collect(client(alice), RESUME, { id: streamId, after })).toEqual([]);
    expect(await messagesOf(t.url, alice.access, conv.id)).toHaveLength(count);
  });

  it('needs conversations:write for chatStream and conversations:read for chatStreamResume with an API key', async () => {
    const org = await createOrg(t, alice, { name: 'WS keys' });
    const [read, write] = await Promise.all([createKey(t, alice, org.id, ['conversations:read']), createKey(t, alice, org.id, ['conversations:write'])]);
    const keyClient = (key: string) => {
      const c = wsClient(t.url, '', { 'x-api-key': key });
      clients.push(c);
      return c;
    };
    const scope = (field: string, required: string, granted: string[]) =>
      failure(field, 'API key lacks required scope for this endpoint', 'INSUFFICIENT_API_KEY_SCOPE', 403, { required_scope: required, granted_scopes: granted });
    expect(await collect(keyClient(read.key), CHAT_STREAM, { input: { message: 'hi' } })).toEqual(scope('chatStream', 'conversations:write', ['conversations:read']));
    const streamed = eventsOf(await collect(keyClient(write.key), CHAT_STREAM, { input: { message: 'hi' } }), 'chatStream');
    expect(streamed.at(-1)?.type).toBe('DONE');
    const id = streamed[0]?.streamId;
    expect(await collect(keyClient(write.key), RESUME, { id })).toEqual(scope('chatStreamResume', 'conversations:read', ['conversations:write']));
    expect(eventsOf(await collect(keyClient(read.key), RESUME, { id }), 'chatStreamResume')).toEqual(streamed);
  });

  it("refuses to resume another user's, an unknown or a malformed stream with NOT_FOUND", async () => {
    const original = await collect(client(alice), CHAT_STREAM, { input: { message: 'hi' } });
    const streamId = eventsOf(original, 'chatStream')[0]?.streamId ?? '';
    const notFound = failure('chatStreamResume', 'Stream not found', 'NOT_FOUND', 404);
    expect(await collect(client(bob), RESUME, { id: streamId, after: 0 })).toEqual(notFound);
    expect(await collect(client(alice), RESUME, { id: UNKNOWN_ID })).toEqual(notFound);
    expect(await collect(client(alice), RESUME, { id: 'nope' })).toEqual(notFound);
  });
});

const PROVIDERS = 'query { aiProviders { defaultProvider providers { id name models defaultModel available } } }';

describe('CONV-1 GET /api/core/providers', () => {
  const local = { id: 'local', name: 'Local (offline, grounded)', models: ['local-grounded-1'], default_model: 'local-grounded-1', available: true };

  it('lists auto first, local available, openai and anthropic unavailable without configuration', async () => {
    const res = await t.rest('GET', '/api/core/providers', { headers: bearer(alice.access) });
    const body = {
      default_provider: 'auto',
      providers: [
        { id: 'auto', name: 'Automatic (Local (offline, grounded))', models: ['local-grounded-1'], default_model: 'local-grounded-1', available: true },
        local,
        { id: 'openai', name: 'OpenAI-compatible', models: ['gpt-5-mini'], default_model: 'gpt-5-mini', available: false },
        { id: 'anthropic', name: 'Anthropic', models: ['claude-sonnet-4-5'], default_model: 'claude-sonnet-4-5', available: false },
      ],
    };
    expect(wire(res)).toEqual({ status: 200, body });
    // GraphQL parity.
    expect((await t.gql(PROVIDERS, {}, bearer(alice.access))).body).toEqual({
      data: { aiProviders: { defaultProvider: 'auto', providers: body.providers.map(({ default_model, ...p }) => ({ ...p, defaultModel: default_model })) } },
    });
    expect(wire(await t.rest('GET', '/api/core/providers'))).toEqual({ status: 401, body: { detail: 'Not authenticated' } });
  });

  describe('with an OpenAI-compatible endpoint configured', () => {
    let fake: FakeAi;
    let configured: TestStack;
    let carol: Person;

    beforeAll(async () => {
      fake = await startFakeAi();
      // Without services both stacks share the process's embedded database: same secrets.
      const secrets = { ENCRYPTION_KEY: t.config.encryptionKey, INTERNAL_SERVICE_KEY: t.config.internalServiceKey };
      configured = await startTestStack({ env: { ...secrets, OPENAI_BASE_URL: `${fake.url}/v1`, OPENAI_API_KEY: 'sk-conv1', OPENAI_MODELS: 'gpt-a,gpt-b', DEFAULT_AI_PROVIDER: 'openai' } });
      carol = await person(configured, 'gqls_carol');
    });

    afterAll(async () => {
      await configured?.close();
      await fake?.close();
    });

    it('lists openai as available, and auto routes to it', async () => {
      const openai = { id: 'openai', name: 'OpenAI-compatible', models: ['gpt-a', 'gpt-b'], default_model: 'gpt-a', available: true };
      expect(wire(await configured.rest('GET', '/api/core/providers', { headers: bearer(carol.access) }))).toEqual({
        status: 200,
        body: {
          default_provider: 'auto',
          providers: [
            { ...openai, id: 'auto', name: 'Automatic (OpenAI-compatible)' },
            local,
            openai,
            { id: 'anthropic', name: 'Anthropic', models: ['claude-sonnet-4-5'], default_model: 'claude-sonnet-4-5', available: false },
          ],
        },
      });
      fake.mode = { kind: 'stream', words: ['Routed', ' to', ' openai.'] };
      fake.requests.length = 0;
      const c = wsClient(configured.url, carol.access);
      clients.push(c);
      const events = eventsOf(await collect(c, CHAT_STREAM, { input: { message: 'Where am I?' } }), 'chatStream');
      expect(events.map((e) => [e.seq, e.type, e.delta])).toEqual([
        [0, 'START', null],
        [1, 'CHUNK', 'Routed'],
        [2, 'CHUNK', ' to'],
        [3, 'CHUNK', ' openai.'],
        [4, 'DONE', null],
      ]);
      expect(events[0]).toMatchObject({ provider: 'auto', model: 'gpt-a' });
      expect(events[4]?.response).toMatchObject({ content: 'Routed to openai.', provider: 'auto', model: 'gpt-a' });
      expect(fake.requests).toEqual([
        { path: '/v1/chat/completions', headers: expect.objectContaining({ authorization: 'Bearer sk-conv1' }), body: { model: 'gpt-a', messages: [{ role: 'user', content: 'Where am I?' }], stream: true } },
      ]);
    });
  });
});
