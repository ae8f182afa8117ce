/**
 * Idempotent retries (README "Idempotent retries"): `Idempotency-Key` on CONV-2 and KB-3, and the
 * `idempotencyKey` argument of `chat` and `uploadKnowledgeDocument`. A retry with the same key and
 * body returns the first result with one stored write (across REST and GraphQL); another body is
 * 409 `idempotency_key_reused`; a retry while the first call runs is 409
 * `idempotency_key_in_progress`; a failed call frees its key; keys belong to their principal.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, useTestStack } from './harness.ts';
import { person, type Person } from './org-fixtures.ts';
import { createConversation } from './chat-fixtures.ts';
import { collect, messagesOf, parseSse, until, wsClient } from './chat-stream-fixtures.ts';
import { DOCUMENT_FIELDS, gql, txt, uploadRest, type KnowledgeDocumentGql, type RagDocumentBody } from './knowledge-fixtures.ts';
import { useFakeAi } from './fake-ai.ts';
import { coded } from './assertions.ts';

const fake = useFakeAi();
const t = useTestStack(() => ({
  env: { OPENAI_BASE_URL: `${fake.url}/v1`, OPENAI_API_KEY: 'sk-idem', OPENAI_MODELS: 'gpt-idem', DEFAULT_AI_PROVIDER: 'local', AI_TIMEOUT_MS: '3000' },
}));
let alice: Person;
let bob: Person;

beforeAll(async () => {
  [alice, bob] = await Promise.all([person(t, 'idem_alice'), person(t, 'idem_bob')]);
});

const REUSED = coded('idempotency_key_reused', 'This Idempotency-Key was already used with a different request');
const IN_PROGRESS = coded('idempotency_key_in_progress', 'A request with this Idempotency-Key is still in progress');
const chat = (p: Person, key: string, json: Record<string, unknown>) =>
  t.rest('POST', '/api/core/chat', { json: { provider: 'openai', ...json }, headers: { ...bearer(p.access), 'idempotency-key': key } });
const wire = (r: { status: number; body: unknown }) => ({ status: r.status, body: r.body });
const CHAT_MUTATION = 'mutation ($input: ChatInput!, $key: String) { chat(input: $input, idempotencyKey: $key) { content provider model conversationId messageId } }';

describe('POST /api/core/chat and the chat mutation with an idempotency key', () => {
  it('a retry returns the first reply without a second generation or a second pair of turns, over REST and GraphQL', async () => {
    fake.mode = { kind: 'stream', words: ['First', ' reply.'] };
    const conversation = await createConversation(t, alice);
    const body = { message: 'Hello once', conversation_id: conversation.id };
    const before = fake.requests.length;
    const first = await chat(alice, 'chat-key-1', body);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ content: 'First reply.', provider: 'openai', model: 'gpt-idem', conversation_id: conversation.id });
    fake.mode = { kind: 'stream', words: ['Second', ' reply.'] };
    expect(wire(await chat(alice, 'chat-key-1', body))).toEqual(wire(first));
    const viaGraphql = await t.gql(CHAT_MUTATION, { input: { message: 'Hello once', provider: 'openai', conversationId: conversation.id }, key: 'chat-key-1' }, bearer(alice.access));
    const reply = first.body as { message_id: string };
    expect(viaGraphql.body).toEqual({ data: { chat: { content: 'First reply.', provider: 'openai', model: 'gpt-idem', conversationId: conversation.id, messageId: reply.message_id } } });
    expect(fake.requests.length - before).toBe(1);
    expect((await messagesOf(t.url, alice.access, conversation.id)).map((m) => m.content)).toEqual(['Hello once', 'First reply.']);
  });

  it('the same key with another body is 409 idempotency_key_reused (REST and GraphQL), and writes nothing', async () => {
    fake.mode = { kind: 'stream', words: ['Ok.'] };
    const conversation = await createConversation(t, alice);
    expect((await chat(alice, 'chat-key-2', { message: 'One', conversation_id: conversation.id })).status).toBe(200);
    expect(wire(await chat(alice, 'chat-key-2', { message: 'Two', conversation_id: conversation.id }))).toEqual({ status: 409, body: REUSED });
    const viaGraphql = await t.gql(CHAT_MUTATION, { input: { message: 'Three', provider: 'openai' }, key: 'chat-key-2' }, bearer(alice.access));
    expect(viaGraphql.body.errors?.map((e) => e.extensions?.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    expect((await messagesOf(t.url, alice.access, conversation.id)).map((m) => m.content)).toEqual(['One', 'Ok.']);
  });

  it('keys belong to their principal: another user with the same key gets their own reply', async () => {
    fake.mode = { kind: 'stream', words: ['Bob', "'s", ' reply.'] };
    const res = await chat(bob, 'chat-key-1', { message: 'Hello once' });
    expect(wire(res)).toEqual({
      status: 200,
      body: { content: "Bob's reply.", provider: 'openai', model: 'gpt-idem', usage: expect.any(Object), conversation_id: null, message_id: null },
    });
  });

  it('a retry while the first call still runs is 409 idempotency_key_in_progress; the first then completes', async () => {
    fake.mode = { kind: 'stream', words: ['Slow', ' but', ' sure.'], delayMs: 150 };
    const before = fake.requests.length;
    const first = chat(alice, 'chat-key-3', { message: 'Take your time' });
    await until(() => fake.requests.length > before);
    expect(wire(await chat(alice, 'chat-key-3', { message: 'Take your time' }))).toEqual({ status: 409, body: IN_PROGRESS });
    expect(await first).toMatchObject({ status: 200, body: { content: 'Slow but sure.' } });
    expect(fake.requests.length - before).toBe(1);
  });

  it('a failed call keeps nothing: a retry with its key runs again', async () => {
    fake.mode = { kind: 'status', status: 500 };
    expect(wire(await chat(alice, 'chat-key-4', { message: 'Try again' }))).toEqual({ status: 502, body: coded('provider_error', 'AI provider request failed') });
    fake.mode = { kind: 'stream', words: ['Worked.'] };
    expect(await chat(alice, 'chat-key-4', { message: 'Try again' })).toMatchObject({ status: 200, body: { content: 'Worked.' } });
  });

  it('a malformed key is 422 on the header (REST) or on the argument (GraphQL)', async () => {
    const long = 'k'.repeat(256);
    const res = await chat(alice, long, { message: 'Hi' });
    expect(wire(res)).toEqual({
      status: 422,
      body: { detail: [{ type: 'string_too_long', loc: ['header', 'idempotency-key'], msg: 'String should have at most 255 characters', input: long, ctx: { max_length: 255 } }] },
    });
    const spaced = await chat(alice, 'has space', { message: 'Hi' });
    expect(spaced.status).toBe(422);
    expect((spaced.body as { detail: { type: string; loc: string[] }[] }).detail.map((d) => [d.type, d.loc])).toEqual([['string_pattern_mismatch', ['header', 'idempotency-key']]]);
    const viaGraphql = await t.gql(CHAT_MUTATION, { input: { message: 'Hi' }, key: 'has space' }, bearer(alice.access));
    expect(viaGraphql.body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      fields: [{ type: 'string_pattern_mismatch', loc: ['idempotencyKey'], msg: 'String should match pattern', input: null }],
    });
  });
});

describe('streamed POST /api/core/chat and the chatStream subscription with an idempotency key', () => {
  it('a retry replays the first stream (same stream id, same events) without a second generation, over REST and graphql-ws', async () => {
    fake.mode = { kind: 'stream', words: ['Streamed', ' once.'] };
    const conversation = await createConversation(t, alice);
    const body = { message: 'Stream once', conversation_id: conversation.id, stream: true };
    const before = fake.requests.length;
    const first = await chat(alice, 'stream-key-1', body);
    expect(first.status).toBe(200);
    const events = parseSse(first.text).events;
    expect(events.map((e) => e.event)).toEqual(['start', 'chunk', 'chunk', 'done']);
    const streamId = (events[0]?.data as { stream_id: string }).stream_id;
    fake.mode = { kind: 'stream', words: ['Streamed', ' twice.'] };
    const retry = await chat(alice, 'stream-key-1', body);
    expect(parseSse(retry.text).events).toEqual(events);
    const ws = wsClient(t.url, alice.access);
    const viaWs = (await collect(ws, 'subscription ($input: ChatInput!, $key: String) { chatStream(input: $input, idempotencyKey: $key) { streamId seq type delta } }', {
      input: { message: 'Stream once', provider: 'openai', conversationId: conversation.id },
      key: 'stream-key-1',
    })) as { data: { chatStream: { streamId: string; type: string } } }[];
    await ws.dispose();
    expect(viaWs.map((r) => [r.data.chatStream.streamId, r.data.chatStream.type])).toEqual([
      [streamId, 'START'],
      [streamId, 'CHUNK'],
      [streamId, 'CHUNK'],
      [streamId, 'DONE'],
    ]);
    expect(fake.requests.length - before).toBe(1);
    expect((await messagesOf(t.url, alice.access, conversation.id)).map((m) => m.content)).toEqual(['Stream once', 'Streamed once.']);
  });

  it('the same key with another body is 409 idempotency_key_reused before any stream; keys are apart from non-streamed calls', async () => {
    fake.mode = { kind: 'stream', words: ['Apart.'] };
    expect((await chat(alice, 'stream-key-2', { message: 'One', stream: true })).status).toBe(200);
    expect(wire(await chat(alice, 'stream-key-2', { message: 'Another', stream: true }))).toEqual({ status: 409, body: REUSED });
    // The non-streamed call with the same key is its own request.
    expect((await chat(alice, 'stream-key-2', { message: 'Another' })).status).toBe(200);
  });
});

describe('POST /api/knowledge/documents and the upload mutation with an idempotency key', () => {
  const UPLOAD = `mutation ($input: UploadDocumentInput!, $key: String) { uploadKnowledgeDocument(input: $input, idempotencyKey: $key) { document { ${DOCUMENT_FIELDS} } } }`;
  const mine = async (p: Person): Promise<RagDocumentBody[]> => {
    const res = await t.rest('GET', '/api/knowledge/documents?mine=true&limit=100', { headers: bearer(p.access) });
    return (res.body as { items: RagDocumentBody[] }).items;
  };

  it('a REST retry returns the first document (201, same id) and stores one', async () => {
    const file = txt('retried', 'Idempotent uploads keep one copy of the document.');
    const headers = { ...bearer(alice.access), 'idempotency-key': 'upload-key-1' };
    const first = await uploadRest(t.url, headers, file, { title: 'Retried' });
    expect(first.status).toBe(201);
    const again = await uploadRest(t.url, headers, file, { title: 'Retried' });
    expect(wire(again)).toEqual(wire(first));
    expect((await mine(alice)).filter((d) => d.title === 'Retried').map((d) => d.id)).toEqual([(first.body as RagDocumentBody).id]);
    const other = await uploadRest(t.url, headers, txt('retried', 'Another text altogether.'), { title: 'Retried' });
    expect(wire(other)).toEqual({ status: 409, body: REUSED });
  });

  it('a GraphQL retry returns the first document and stores one', async () => {
    const input = { file: { filename: 'graphql.txt', contentType: 'text/plain', contentBase64: Buffer.from('Uploaded once through GraphQL.').toString('base64') }, title: 'Via GraphQL' };
    const first = await gql(t.url, alice.access, UPLOAD, { input, key: 'upload-key-2' });
    const doc = first.body.data?.uploadKnowledgeDocument as { document: KnowledgeDocumentGql } | undefined;
    expect(doc?.document.title).toBe('Via GraphQL');
    expect(await gql(t.url, alice.access, UPLOAD, { input, key: 'upload-key-2' })).toEqual(first);
    expect((await mine(alice)).filter((d) => d.title === 'Via GraphQL').map((d) => d.id)).toEqual([doc?.document.id]);
  });
});
